"""client-go's REST client metrics (k8s.io/client-go/tools/metrics) for the gRPC client:
rest_client_requests_total and rest_client_request_duration_seconds, by Kubernetes' verb."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Generator
from typing import Any

import grpc
from google.protobuf.message import Message
from prometheus_client import Counter, Histogram

REST_CLIENT_REQUESTS = Counter(
    "rest_client_requests_total",
    "Number of HTTP requests, partitioned by status code, method, and host.",
    ["code", "method", "host"],
)
REST_CLIENT_REQUEST_DURATION = Histogram(
    "rest_client_request_duration_seconds",
    "Request latency in seconds. Broken down by verb, and host.",
    ["verb", "host"],
    buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0),
)

# The HTTP method the REST call of each gRPC method would use; every other gRPC call is a POST.
_HTTP_METHODS = {
    "Create": "POST",
    "Bind": "POST",
    "Get": "GET",
    "List": "GET",
    "Watch": "GET",
    "Log": "GET",
    "Update": "PUT",
    "UpdateStatus": "PUT",
    "Delete": "DELETE",
}


def http_method(grpc_method: str | bytes) -> str:
    """The HTTP verb of a gRPC method: "/podplane.core.v1.Pods/Create" -> "POST"."""
    if isinstance(grpc_method, bytes):
        grpc_method = grpc_method.decode()
    return _HTTP_METHODS.get(grpc_method.rpartition("/")[2], "POST")


# What the generated stubs pass to a channel's unary_unary and unary_stream.
_Serializer = Callable[[Message], bytes]
_Deserializer = Callable[[bytes], Message]


class _MeteredUnaryCall:
    """A unary call that records rest_client_* once it is awaited to its end: its duration from
    the call's start and its code (CANCELLED if the caller gives up first). Everything else is the
    call's own."""

    __slots__ = ("_call", "_method", "_recorded", "_start")

    def __init__(self, call: grpc.aio.UnaryUnaryCall, method: MethodMetrics) -> None:
        self._call = call
        self._method = method
        self._start = time.monotonic()
        self._recorded = False

    def __await__(self) -> Generator[object, None, Message]:
        code = grpc.StatusCode.CANCELLED
        try:
            response: Message = yield from self._call.__await__()
            code = grpc.StatusCode.OK
            return response
        except grpc.aio.AioRpcError as e:
            code = e.code()
            raise
        finally:
            if not self._recorded:
                self._recorded = True
                self._method.record(code, time.monotonic() - self._start)

    def __getattr__(self, name: str) -> Any:  # the untyped grpc call's own attributes
        return getattr(self._call, name)


class MethodMetrics:
    """One method's series: its verb's duration histogram, and a request counter per code. A
    request stream (podplane.client.request_stream) records each of its requests here."""

    def __init__(self, method: str | bytes, host: str) -> None:
        self.verb, self.host = http_method(method), host
        self._duration = REST_CLIENT_REQUEST_DURATION.labels(self.verb, host)
        self._requests: dict[grpc.StatusCode, Counter] = {}

    def count(self, code: grpc.StatusCode) -> None:
        counter = self._requests.get(code)
        if counter is None:
            counter = self._requests[code] = REST_CLIENT_REQUESTS.labels(
                code.name, self.verb, self.host
            )
        counter.inc()

    def record(self, code: grpc.StatusCode, seconds: float) -> None:
        self._duration.observe(seconds)
        self.count(code)


class _MeteredUnaryUnary:
    def __init__(self, inner: grpc.aio.UnaryUnaryMultiCallable, method: MethodMetrics) -> None:
        self._inner, self._method = inner, method

    def __call__(self, *args: object, **kwargs: object) -> _MeteredUnaryCall:
        return _MeteredUnaryCall(self._inner(*args, **kwargs), self._method)


class _MeteredUnaryStream:
    """Streams (watch, logs) are counted when they end, with their final code; a stream's length
    says nothing about latency, so they are not timed."""

    def __init__(self, inner: grpc.aio.UnaryStreamMultiCallable, method: MethodMetrics) -> None:
        self._inner, self._method = inner, method
        self._counting: set[asyncio.Task[None]] = set()

    def __call__(self, *args: object, **kwargs: object) -> grpc.aio.UnaryStreamCall:
        call = self._inner(*args, **kwargs)
        loop = asyncio.get_running_loop()
        call.add_done_callback(lambda done: self._count(loop, done))
        return call

    def _count(self, loop: asyncio.AbstractEventLoop, call: grpc.aio.UnaryStreamCall) -> None:
        async def count() -> None:
            self._method.count(await call.code())

        if not loop.is_closed():
            task = loop.create_task(count())
            self._counting.add(task)
            task.add_done_callback(self._counting.discard)


class MeteredChannel(grpc.aio.Channel):  # type: ignore[misc]
    """A channel to `host` whose calls record rest_client_requests_total and
    rest_client_request_duration_seconds, as client-go's REST client does.

    Not a grpc.aio client interceptor: gRPC runs each intercepted call through a task of its own,
    which cost every unary call about 70 us of CPU (a quarter more than the call itself, on grpcio
    1.85.1); here a unary call is timed where it is awaited, and each method's series are looked up
    once."""

    def __init__(self, channel: grpc.aio.Channel, host: str) -> None:
        self._channel, self.host = channel, host

    def unary_unary(
        self,
        method: str,
        request_serializer: _Serializer | None = None,
        response_deserializer: _Deserializer | None = None,
        _registered_method: bool | None = False,
    ) -> _MeteredUnaryUnary:
        return _MeteredUnaryUnary(
            self._channel.unary_unary(
                method, request_serializer, response_deserializer, _registered_method
            ),
            MethodMetrics(method, self.host),
        )

    def unary_stream(
        self,
        method: str,
        request_serializer: _Serializer | None = None,
        response_deserializer: _Deserializer | None = None,
        _registered_method: bool | None = False,
    ) -> _MeteredUnaryStream:
        return _MeteredUnaryStream(
            self._channel.unary_stream(
                method, request_serializer, response_deserializer, _registered_method
            ),
            MethodMetrics(method, self.host),
        )

    def stream_unary(self, *args: object, **kwargs: object) -> grpc.aio.StreamUnaryMultiCallable:
        return self._channel.stream_unary(*args, **kwargs)

    def stream_stream(self, *args: object, **kwargs: object) -> grpc.aio.StreamStreamMultiCallable:
        return self._channel.stream_stream(*args, **kwargs)

    async def close(self, grace: float | None = None) -> None:
        await self._channel.close(grace)

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return self._channel.get_state(try_to_connect)

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        await self._channel.wait_for_state_change(last_observed_state)

    async def channel_ready(self) -> None:
        await self._channel.channel_ready()

    async def __aenter__(self) -> MeteredChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
