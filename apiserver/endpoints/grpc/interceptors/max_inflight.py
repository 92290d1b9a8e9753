"""The overload guard (k8s.io/apiserver/pkg/server/filters/maxinflight.go): at most N read-only and
M mutating requests are served at once; one more is answered RESOURCE_EXHAUSTED ("Too many
requests, please try again later.", Kubernetes' 429) at once, with a retry-after hint of 1 s in the
trailing metadata, instead of queueing behind the others and slowing every caller down.

Long-running requests (watch, log, exec, attach) hold no slot: they last for minutes by design.
Health and reflection are not resource requests and pass through. Members of system:masters are
always served, as in Kubernetes (a super-admin must be able to act on an overloaded cluster); that
needs the authentication interceptor to run before this one. A limit of 0 disables that kind's
guard; both 0 disables it altogether.

Rejected requests never reach the servicers: list this interceptor before MetricsInterceptor, so
that apiserver_request_total and apiserver_current_inflight_requests count the accepted ones only
(as in Kubernetes), while apiserver_dropped_requests_total and apiserver_request_terminations_total
count the rejections."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from apiserver.endpoints.grpc.interceptors.handler_wrapping import Behavior, PerMethod, wrap_behaviors
from apiserver.auth.user import MASTERS_GROUP, current_user
from apiserver.endpoints.grpc.interceptors.metrics import DROPPED_REQUESTS, REQUEST_TERMINATIONS
from apiserver.endpoints.grpc.request_info import MUTATING, READ_ONLY, RequestInfo, request_info

# A quarter of kube-apiserver's 400 and 200, which are sized for a Go server on many cores: this
# one serves on one event loop. `podplane-bench apiserver-overload` (800 writers, 100 node
# watchers, 2 cores) measured accepted mutating p99 0.68-0.80 s at a mutating limit of 50,
# 1.4-2.0 s at 100.
DEFAULT_MAX_REQUESTS_INFLIGHT = 100
DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT = 50
TOO_MANY_REQUESTS = "Too many requests, please try again later."
# Kubernetes' fixed Retry-After (seconds); clients read it from the trailing metadata.
RETRY_AFTER_KEY = "retry-after"
RETRY_AFTER_SECONDS = "1"
COMPONENT = "apiserver"


@dataclass
class InflightSlots:
    """The requests of one kind being served, against its limit. A plain counter is enough: the
    server's calls all run on one event loop thread, so check-and-take cannot interleave."""
    limit: int
    in_use: int = 0

    def full(self) -> bool:
        return self.in_use >= self.limit

    def try_acquire(self) -> bool:
        if self.full():
            return False
        self.in_use += 1
        return True

    def release(self) -> None:
        self.in_use -= 1


@dataclass
class MaxInflightInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """--max-requests-inflight (read-only) and --max-mutating-requests-inflight; 0 = no limit."""
    max_requests_inflight: int = DEFAULT_MAX_REQUESTS_INFLIGHT
    max_mutating_requests_inflight: int = DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT
    slots: dict[str, InflightSlots] = field(init=False)
    _guarded: PerMethod[_Guarded | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for flag, value in (("max_requests_inflight", self.max_requests_inflight),
                            ("max_mutating_requests_inflight", self.max_mutating_requests_inflight)):
            if value < 0:
                raise ValueError(f"--{flag.replace('_', '-')}: must be >= 0, got {value}")
        self.slots = {kind: InflightSlots(limit) for kind, limit in (
            (READ_ONLY, self.max_requests_inflight),
            (MUTATING, self.max_mutating_requests_inflight)) if limit > 0}
        self._guarded = PerMethod(self._guard)

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]],
                                details: grpc.HandlerCallDetails) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        guarded = self._guarded.get(details.method, handler)
        if guarded is None:
            return handler
        if guarded.refusing is not None and guarded.slots.full():
            return guarded.refusing
        return guarded.serving

    def _guard(self, method: str, handler: Any) -> _Guarded | None:
        info = request_info(method)
        if info is None or info.long_running:
            return None
        slots = self.slots.get(info.request_kind)
        if slots is None:  # this kind is not limited
            return None
        refusing = (grpc.stream_unary_rpc_method_handler(
            _refused_unary(handler.unary_unary, info, slots),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)
            if handler.unary_unary is not None else None)
        return _Guarded(slots, wrap_behaviors(handler, lambda b: _limited_unary(b, info, slots),
                                              lambda b: _limited_stream(b, info, slots)),
                        refusing)


@dataclass(frozen=True)
class _Guarded:
    """A limited method's handlers: `serving` while its kind has a slot free, `refusing` (unary
    calls) when all are taken as a call arrives."""
    slots: InflightSlots
    serving: Any
    refusing: Any | None


def _exempt_user() -> bool:
    user = current_user()
    return user is not None and MASTERS_GROUP in user.groups


async def _reject(info: RequestInfo, context: grpc.aio.ServicerContext) -> None:
    """Counts the rejection and ends the call with RESOURCE_EXHAUSTED (raises)."""
    DROPPED_REQUESTS.labels(info.request_kind).inc()
    REQUEST_TERMINATIONS.labels(info.verb, info.resource, info.subresource, COMPONENT,
                                grpc.StatusCode.RESOURCE_EXHAUSTED.name).inc()
    await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, TOO_MANY_REQUESTS,
                        trailing_metadata=((RETRY_AFTER_KEY, RETRY_AFTER_SECONDS),))


def _limited_unary(behavior: Behavior, info: RequestInfo,
                   slots: InflightSlots) -> Callable[..., Awaitable[Any]]:
    async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if not slots.try_acquire():
            if not _exempt_user():
                await _reject(info, context)
            return await behavior(request, context)
        try:
            return await behavior(request, context)
        finally:  # released however the call ends: success, error, or the client cancelling
            slots.release()
    return handle


def _refused_unary(behavior: Behavior, info: RequestInfo,
                   slots: InflightSlots) -> Callable[..., Awaitable[Any]]:
    """The handler of a unary call that finds its kind's slots all taken as it arrives. Declared
    client-streaming, so gRPC hands it over before the request message is read (the wire is the
    same): the refusal skips that read, one more trip through gRPC's core and the event loop,
    which under overload is most of a refusal's time. A caller that is exempt, or that finds a
    slot given back meanwhile, is served: its one message read, then the unary behavior."""
    async def handle(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
        acquired = slots.try_acquire()
        if not acquired and not _exempt_user():
            await _reject(info, context)
        try:
            return await behavior(await anext(requests), context)
        finally:
            if acquired:
                slots.release()
    return handle


def _limited_stream(behavior: Behavior, info: RequestInfo,
                    slots: InflightSlots) -> Callable[..., AsyncIterator[Any]]:
    """A short server stream (none today: the apiserver's streams are all long-running)."""
    async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
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
