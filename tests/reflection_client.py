"""What grpcurl does, in Python: discover services and message types through server reflection
only (no generated code), call a method with a JSON request and return the JSON response."""

from __future__ import annotations

import json
from typing import Any

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from podplane.client.credentials import Credentials


def _channel(target: str, credentials: Credentials | None) -> grpc.Channel:
    """TLS with the cluster's credentials (grpcurl -cacert -cert -key), else plaintext."""
    return credentials.channel(target) if credentials else grpc.insecure_channel(target)


def list_services(target: str, credentials: Credentials | None = None) -> list[str]:
    """`grpcurl -plaintext TARGET list`"""
    with _channel(target, credentials) as channel:
        return sorted(ProtoReflectionDescriptorDatabase(channel).get_services())


def call(
    target: str, method: str, request: dict[str, Any], credentials: Credentials | None = None
) -> dict[str, Any]:
    """`grpcurl -plaintext -d '<request>' TARGET package.Service/Method` for a unary method."""
    service_name, method_name = method.rsplit("/", 1)
    with _channel(target, credentials) as channel:
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        service = pool.FindServiceByName(service_name)
        m = service.FindMethodByName(method_name)
        request_class = message_factory.GetMessageClass(m.input_type)
        response_class = message_factory.GetMessageClass(m.output_type)
        stub = channel.unary_unary(
            f"/{service_name}/{method_name}",
            request_serializer=lambda msg: msg.SerializeToString(),
            response_deserializer=response_class.FromString,
        )
        reply = stub(json_format.ParseDict(request, request_class()), timeout=10)
        out: dict[str, Any] = json.loads(json_format.MessageToJson(reply))
        return out
