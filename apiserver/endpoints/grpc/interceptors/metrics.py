"""The metrics interceptor: measures every resource request of the gRPC door into the request
metrics (apiserver.endpoints.metrics), so the servicers know nothing of metrics. The code is the
gRPC status code's name (OK, NOT_FOUND, ABORTED, ...)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator
from dataclasses import replace

import grpc
from google.protobuf.message import Message

from apiserver.endpoints.grpc.interceptors.handler_wrapping import (
    Stream,
    Unary,
    WrappingInterceptor,
    wrap_behaviors,
)
from apiserver.endpoints.grpc.interceptors.request_info import request_info
from apiserver.endpoints.metrics import (
    INFLIGHT_REQUESTS,
    LONGRUNNING_REQUESTS,
    REQUEST_DURATION,
    requests_by_code,
)
from apiserver.endpoints.request import RequestInfo


def _code(context: grpc.aio.ServicerContext, error: BaseException | None) -> str:
    """The status code the call ends with: what the servicer set or aborted with; CANCELLED when
    the client went away; UNKNOWN for an unhandled exception (what gRPC sends then)."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    if error is None:
        return str(grpc.StatusCode.OK.name)
    if isinstance(error, (asyncio.CancelledError, GeneratorExit)):
        return str(grpc.StatusCode.CANCELLED.name)
    return str(grpc.StatusCode.UNKNOWN.name)


def _unary(behavior: Unary, info: RequestInfo) -> Unary:
    inflight = INFLIGHT_REQUESTS.labels(info.request_kind)
    duration = REQUEST_DURATION.labels(info.verb, info.resource, info.subresource)
    requests = requests_by_code(info)

    async def handle(request: Message, context: grpc.aio.ServicerContext) -> Message:
        inflight.inc()
        start = time.monotonic()
        error: BaseException | None = None
        try:
            return await behavior(request, context)
        except BaseException as e:
            error = e
            raise
        finally:
            inflight.dec()
            duration.observe(time.monotonic() - start)
            requests(_code(context, error)).inc()

    return handle


def _stream(behavior: Stream, info: RequestInfo) -> Stream:
    """A server stream (watch, logs): long-running, so counted by apiserver_longrunning_requests
    while it lasts and not timed; apiserver_request_total counts it when it ends."""
    longrunning = LONGRUNNING_REQUESTS.labels(info.verb, info.resource, info.subresource)
    requests = requests_by_code(info)

    async def stream(
        request: Message, context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[Message, None]:
        longrunning.inc()
        error: BaseException | None = None
        try:
            async with contextlib.aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield response
        except BaseException as e:
            error = e
            raise
        finally:
            longrunning.dec()
            requests(_code(context, error)).inc()

    return stream


class MetricsInterceptor(WrappingInterceptor):
    """Records apiserver_request_total, apiserver_request_duration_seconds,
    apiserver_current_inflight_requests and apiserver_longrunning_requests for every resource
    request; other services (health, reflection) pass through unmeasured, as do server streams
    written with context.write() rather than yielded (the servicers have none)."""

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        info = request_info(method)
        if info is None:
            return handler
        if info.per_request:  # a CustomObjects call: counted under the resource it names
            return wrap_behaviors(
                handler,
                lambda b: _unary_per_request(b, info),
                lambda b: _stream_per_request(b, info),
            )
        return wrap_behaviors(handler, lambda b: _unary(b, info), lambda b: _stream(b, info))


def _named(info: RequestInfo, request: Message) -> RequestInfo:
    return replace(info, resource=str(getattr(request, "plural", "")))


def _unary_per_request(behavior: Unary, info: RequestInfo) -> Unary:
    async def handle(request: Message, context: grpc.aio.ServicerContext) -> Message:
        return await _unary(behavior, _named(info, request))(request, context)

    return handle


def _stream_per_request(behavior: Stream, info: RequestInfo) -> Stream:
    async def stream(
        request: Message, context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[Message, None]:
        measured = _stream(behavior, _named(info, request))(request, context)
        async with contextlib.aclosing(measured) as responses:
            async for response in responses:
                yield response

    return stream
