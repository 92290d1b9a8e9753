"""Helpers for the API-object integration tests: manifests decoded as podctl decodes them, creates
that must be refused as invalid, and a plain sleeping pod."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import ResourceClient


def decode(text: str, namespace: str) -> Any:
    """The manifest decoded as podctl decodes it, in `namespace`."""
    (obj,) = manifest.load_objects(text)
    typed: Any = obj
    typed.metadata.namespace = namespace
    return typed


async def invalid(api: ResourceClient[Any], obj: Message) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.create(obj)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    return str(err.value.details())


def pod(name: str, namespace: str, **labels: str) -> core_pb2.Pod:
    """A busybox pod that sleeps for an hour, with these labels."""
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {
                "containers": [{"name": "main", "image": "busybox", "command": ["sleep", "3600"]}]
            },
        }
    )
    assert isinstance(obj, core_pb2.Pod)
    return obj
