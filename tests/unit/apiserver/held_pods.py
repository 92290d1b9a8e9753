"""A pods servicer whose calls wait until the test releases them (a slow etcd), and a stand-in
for authentication: what the flow-control interceptors' tests serve behind the interceptor."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from apiserver.auth.user import UserInfo, reset_current_user, set_current_user
from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from tests.unit.waiting import until


class HeldPods(services_pb2_grpc.PodsServicer):  # type: ignore[misc]
    """Create and Get wait until released (a slow etcd); Update fails; Watch streams forever."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def Create(self, request: core_pb2.Pod, context: grpc.aio.ServicerContext) -> Any:
        self.started += 1
        await self.release.wait()
        return request

    async def Get(self, request: meta_pb2.GetRequest, context: grpc.aio.ServicerContext) -> Any:
        self.started += 1
        await self.release.wait()
        return core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name=request.name))

    async def Update(self, request: core_pb2.Pod, context: grpc.aio.ServicerContext) -> Any:
        if request.metadata.name == "bug":
            raise RuntimeError("a bug")
        await context.abort(grpc.StatusCode.ABORTED, "the object has been modified")

    async def Watch(
        self, request: meta_pb2.WatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[core_pb2.PodWatchEvent]:
        yield core_pb2.PodWatchEvent(type="ADDED")
        await asyncio.sleep(3600)


class AsUser(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Stands in for authentication: every call runs as `user`, set inside the call's own task
    (a request stream's for the whole stream)."""

    def __init__(self, user: UserInfo) -> None:
        self.user = user

    async def intercept_service(
        self, continuation: Callable[[Any], Awaitable[Any]], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = await continuation(details)
        if handler is None:
            return handler
        if handler.stream_stream is not None:
            return self._stream(handler)
        # Unary, or client-streaming: the guard's handler for a call it refuses on arrival.
        kind, factory = (
            ("unary_unary", grpc.unary_unary_rpc_method_handler)
            if handler.unary_unary is not None
            else ("stream_unary", grpc.stream_unary_rpc_method_handler)
        )
        inner = getattr(handler, kind)
        if inner is None:
            return handler

        async def as_user(request: Any, context: grpc.aio.ServicerContext) -> Any:
            token = set_current_user(self.user)
            try:
                return await inner(request, context)
            finally:
                reset_current_user(token)

        return factory(
            as_user,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _stream(self, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        inner = handler.stream_stream

        async def as_user(messages: Any, context: grpc.aio.ServicerContext) -> Any:
            token = set_current_user(self.user)
            try:
                async for answer in inner(messages, context):
                    yield answer
            finally:
                reset_current_user(token)

        return grpc.stream_stream_rpc_method_handler(
            as_user,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


async def wait_started(servicer: HeldPods, n: int) -> None:
    await until(lambda: servicer.started >= n, f"{n} calls started", interval=0.02)
