"""Shared pieces of the bad-input property tests: raw gRPC calls that bypass the typed client, what
a clear rejection looks like, and the checks that the apiserver survived it unchanged."""

from __future__ import annotations

import re
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, settings

from podplane.apimachinery import resources
from podplane.client.clientset import Client

# Tens of examples, the same ones on every run (CI must be reproducible), no per-example deadline
# (a call to etcd can take longer than hypothesis' default 200 ms on a busy machine).
BAD_INPUT = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# `Pod "x" is invalid: spec.containers[0].image: Required value` -- a field path, then the problem.
_FIELD_PATH = re.compile(r"^[A-Za-z][\w.]*(\[[^\]]*\])?([.\w\[\]\"-]*)?: ")
_NEVER_FOR_BAD_INPUT = (
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.OK,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
)


@dataclass(frozen=True)
class Rejection:
    code: grpc.StatusCode
    message: str


async def raw_call(channel: grpc.aio.Channel, method: str, body: bytes) -> Rejection:
    """Sends `body` as the request of `method` (e.g. "/podplane.core.v1.Pods/Create") unchanged."""
    call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    try:
        await call(body, timeout=10)
    except grpc.aio.AioRpcError as e:
        return Rejection(e.code(), e.details() or "")
    return Rejection(grpc.StatusCode.OK, "")


async def raw_stream(channel: grpc.aio.Channel, method: str, body: bytes) -> Rejection:
    """The first failure of a server stream (Watch, Log) given `body`; OK if it opened and sent."""
    call = channel.unary_stream(method, request_serializer=None, response_deserializer=None)
    stream = call(body, timeout=0.5)
    try:
        async for _ in stream:
            break
    except grpc.aio.AioRpcError as e:
        return Rejection(e.code(), e.details() or "")
    finally:
        stream.cancel()
    return Rejection(grpc.StatusCode.OK, "")


def assert_refused(rejection: Rejection, *codes: grpc.StatusCode) -> None:
    """Refused with one of `codes` (INVALID_ARGUMENT by default) and a message a person can act on:
    never UNKNOWN/INTERNAL (a crash), never an empty message."""
    allowed = codes or (grpc.StatusCode.INVALID_ARGUMENT,)
    assert rejection.code not in _NEVER_FOR_BAD_INPUT, rejection
    assert rejection.code in allowed, rejection
    assert rejection.message.strip(), rejection
    assert "Traceback" not in rejection.message and "Unexpected <class" not in rejection.message


def assert_invalid_field(rejection: Rejection, path: str) -> None:
    """INVALID_ARGUMENT naming the field, Kubernetes' way: `Kind "name" is invalid: <path>: ...`."""
    assert_refused(rejection)
    assert " is invalid: " in rejection.message, rejection
    causes = rejection.message.split(" is invalid: ", 1)[1].lstrip("[")
    assert _FIELD_PATH.match(causes), rejection
    assert path in rejection.message, (path, rejection)


def method(resource: resources.Resource, verb: str) -> str:
    return f"/{resource.service}/{verb}"


async def assert_serving(channel: grpc.aio.Channel, client: Client, namespace: str) -> None:
    """The apiserver is up: health SERVING and an ordinary request answered."""
    health = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    await client.pods.list(namespace)


async def stored_objects(client: Client, namespace: str) -> dict[tuple[str, str], bytes]:
    """Every object of the namespace with its resourceVersion: what a failed request must leave
    exactly as it was."""
    out: dict[tuple[str, str], bytes] = {}
    for r in resources.ALL:
        if r.namespaced:
            for obj in (await client.for_resource(r).list(namespace)).items:
                out[(r.plural, obj.metadata.name)] = obj.SerializeToString(deterministic=True)
    return out
