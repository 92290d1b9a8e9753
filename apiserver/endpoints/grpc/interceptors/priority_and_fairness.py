"""API Priority and Fairness' gRPC interceptor: the door's side of
apiserver.flowcontrol.priority_and_fairness. Each resource request is classified from its user,
method and message (namespace, name), then executed at once, queued until it has a seat, or
rejected with RESOURCE_EXHAUSTED ("Too many requests, please try again later.") and the
priority level's retry-after hint in the trailing metadata.

A watch waits its turn like any request, then gives its seat back as it starts (Kubernetes holds
it until the watch is initialized: here registering with the watch cache and gathering the
initial events is one synchronous step, done before any other request can take the seat). Log,
exec and attach streams, health and reflection are not flow-controlled, as Kubernetes leaves
long-running requests other than watches alone.

Each request a request stream carries (a binding on Pods/BindStream) is flow-controlled as its unary
call would be, on its own: classified, queued for a seat, holding it while it executes, or
rejected (its answer then carries the retry-after). The stream holds no seat: a seat per stream
would let one client's binds past the fair queuing (given back as the stream starts, as a watch's)
or serialize them (held for the stream's life). A seat per stream message would make a message of
thirty bindings weigh as one request.

Listed after authentication (current_user() is the caller) and before MetricsInterceptor, so that
apiserver_request_total and apiserver_current_inflight_requests count executed requests only."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import NoReturn

import grpc
from google.protobuf.message import Message

from apiserver.auth.authorizer import request_attributes
from apiserver.auth.user import current_user
from apiserver.endpoints.grpc.interceptors.authorization import request_names
from apiserver.endpoints.grpc.interceptors.handler_wrapping import (
    Stream,
    Unary,
    WrappingInterceptor,
    abort,
    received_at,
    wrap_behaviors,
)
from apiserver.endpoints.grpc.interceptors.request_info import custom_request_info, request_info
from apiserver.endpoints.request import RequestInfo, Resolver
from apiserver.flowcontrol.max_inflight import TOO_MANY_REQUESTS, count_rejection
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness, Rejection
from apiserver.flowcontrol.request import RequestDigest, user_or_anonymous

# Clients read Kubernetes' Retry-After from the trailing metadata.
RETRY_AFTER_KEY = "retry-after"


def request_digest(info: RequestInfo, request: Message) -> RequestDigest:
    """What APF classifies a call by. The namespace is the one the request is served in (an
    omitted one is "default", a cluster-scoped resource has none), as authorization sees it."""
    user = user_or_anonymous(current_user())
    attributes = request_attributes(
        user,
        info.authorization_verb,
        info.resource,
        info.subresource,
        *request_names(request),
        group=info.group,
        namespaced=info.namespaced,
    )
    return RequestDigest(
        user,
        attributes.verb,
        attributes.resource,
        attributes.api_group,
        attributes.subresource,
        attributes.namespace,
        attributes.name,
    )


async def _reject(
    info: RequestInfo, rejection: Rejection, context: grpc.aio.ServicerContext
) -> NoReturn:
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
        trailing_metadata=((RETRY_AFTER_KEY, str(rejection.retry_after)),),
    )


class PriorityAndFairnessInterceptor(WrappingInterceptor):
    """Serves each resource request through `apf`, the server's (shared with its other doors)."""

    def __init__(self, apf: PriorityAndFairness, resolve: Resolver | None = None) -> None:
        super().__init__()
        self.apf = apf
        self.resolve = resolve

    def _digest(self, info: RequestInfo, request: Message) -> RequestDigest:
        if info.per_request and self.resolve is not None:
            info = custom_request_info(info, request, self.resolve)
        return request_digest(info, request)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        # Kubernetes counts a request's wait from when it was received. Here a call waits first
        # for the event loop (its task, reading its message): on a busy server, much of its wait.
        received_at.set(time.monotonic())
        return await super().intercept_service(continuation, details)

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        info = request_info(method)
        if info is None or (info.long_running and info.verb != "WATCH"):
            return handler
        return wrap_behaviors(
            handler, lambda b: self._unary(b, info), lambda b: self._stream(b, info)
        )

    def _unary(self, behavior: Unary, info: RequestInfo) -> Unary:
        apf = self.apf

        async def handle(request: Message, context: grpc.aio.ServicerContext) -> Message:
            seat = await apf.admit(
                self._digest(info, request), context.time_remaining(), received_at.get(None)
            )
            if isinstance(seat, Rejection):
                await _reject(info, seat, context)
            try:
                return await behavior(request, context)
            finally:  # given back however the call ends: success, error, the client cancelling
                seat.release()

        return handle

    def _stream(self, behavior: Stream, info: RequestInfo) -> Stream:
        apf = self.apf

        async def stream(
            request: Message, context: grpc.aio.ServicerContext
        ) -> AsyncGenerator[Message, None]:
            seat = await apf.admit(
                self._digest(info, request), context.time_remaining(), received_at.get(None)
            )
            if isinstance(seat, Rejection):
                await _reject(info, seat, context)
            seat.release()  # a watch holds no seat once started
            async with contextlib.aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield response

        return stream
