"""The overload guard's gRPC interceptor: the door's side of apiserver.flowcontrol.max_inflight. A
request over its kind's limit is answered RESOURCE_EXHAUSTED ("Too many requests, please try again
later.") at once, with the retry-after hint in the trailing metadata.

Health and reflection are not resource requests and pass through. The exemption of system:masters
needs the authentication interceptor to run before this one. Rejected requests never reach the
servicers: list this interceptor before MetricsInterceptor, so that apiserver_request_total and
apiserver_current_inflight_requests count the accepted ones only (as in Kubernetes)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn

import grpc
from google.protobuf.message import Message

from apiserver.auth.user import current_user
from apiserver.endpoints.grpc.interceptors.handler_wrapping import (
    PerMethod,
    Stream,
    Unary,
    abort,
    wrap_behaviors,
)
from apiserver.endpoints.grpc.interceptors.request_info import request_info
from apiserver.endpoints.request import RequestInfo
from apiserver.flowcontrol.max_inflight import (
    RETRY_AFTER_SECONDS,
    TOO_MANY_REQUESTS,
    InflightSlots,
    MaxInflight,
    count_rejection,
    exempt,
)

# Clients read Kubernetes' Retry-After from the trailing metadata.
RETRY_AFTER_KEY = "retry-after"


class MaxInflightInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Serves each resource request against `limits`, the server's (shared with its other doors)."""

    def __init__(self, limits: MaxInflight) -> None:
        self.limits = limits
        self._guarded: PerMethod[_Guarded | None] = PerMethod(self._guard)

    @property
    def slots(self) -> dict[str, InflightSlots]:
        return self.limits.slots

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None
        guarded = self._guarded.get(details.method, handler)
        if guarded is None:
            return handler
        if guarded.refusing is not None and guarded.slots.full():
            return guarded.refusing
        return guarded.serving

    def _guard(self, method: str, handler: grpc.RpcMethodHandler) -> _Guarded | None:
        info = request_info(method)
        if info is None or info.long_running:
            return None
        slots = self.slots.get(info.request_kind)
        if slots is None:  # this kind is not limited
            return None
        refusing = (
            grpc.stream_unary_rpc_method_handler(
                _refused_unary(handler.unary_unary, info, slots),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
            if handler.unary_unary is not None
            else None
        )
        return _Guarded(
            slots,
            wrap_behaviors(
                handler,
                lambda b: _limited_unary(b, info, slots),
                lambda b: _limited_stream(b, info, slots),
            ),
            refusing,
        )


@dataclass(frozen=True)
class _Guarded:
    """A limited method's handlers: `serving` while its kind has a slot free, `refusing` (unary
    calls) when all are taken as a call arrives."""

    slots: InflightSlots
    serving: grpc.RpcMethodHandler
    refusing: grpc.RpcMethodHandler | None


def _exempt_user() -> bool:
    return exempt(current_user())


async def _reject(info: RequestInfo, context: grpc.aio.ServicerContext) -> NoReturn:
    """Counts the rejection and ends the call with RESOURCE_EXHAUSTED (raises)."""
    count_rejection(
        info.request_kind,
        info.verb,
        info.resource,
        info.subresource,
        grpc.StatusCode.RESOURCE_EXHAUSTED.name,
    )
    await abort(
        context,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        TOO_MANY_REQUESTS,
        trailing_metadata=((RETRY_AFTER_KEY, RETRY_AFTER_SECONDS),),
    )


def _limited_unary(behavior: Unary, info: RequestInfo, slots: InflightSlots) -> Unary:
    async def handle(request: Message, context: grpc.aio.ServicerContext) -> Message:
        if not slots.try_acquire():
            if not _exempt_user():
                await _reject(info, context)
            return await behavior(request, context)
        try:
            return await behavior(request, context)
        finally:  # released however the call ends: success, error, or the client cancelling
            slots.release()

    return handle


def _refused_unary(
    behavior: Unary,
    info: RequestInfo,
    slots: InflightSlots,
) -> Callable[[AsyncIterator[Message], grpc.aio.ServicerContext], Awaitable[Message]]:
    """The handler of a unary call that finds its kind's slots all taken as it arrives. Declared
    client-streaming, so gRPC hands it over before the request message is read (the wire is the
    same): the refusal skips that read, one more trip through gRPC's core and the event loop,
    which under overload is most of a refusal's time. A caller that is exempt, or that finds a
    slot given back meanwhile, is served: its one message read, then the unary behavior."""

    async def handle(
        requests: AsyncIterator[Message], context: grpc.aio.ServicerContext
    ) -> Message:
        acquired = slots.try_acquire()
        if not acquired and not _exempt_user():
            await _reject(info, context)
        try:
            return await behavior(await anext(requests), context)
        finally:
            if acquired:
                slots.release()

    return handle


def _limited_stream(behavior: Stream, info: RequestInfo, slots: InflightSlots) -> Stream:
    """A short server stream (none today: the apiserver's streams are all long-running)."""

    async def stream(
        request: Message, context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[Message, None]:
        acquired = slots.try_acquire()
        if not acquired and not _exempt_user():
            await _reject(info, context)
        try:
            async with contextlib.aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield response
        finally:
            if acquired:
                slots.release()

    return stream
