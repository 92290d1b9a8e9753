"""Requests whose bytes are not the method's message: INVALID_ARGUMENT, as kube-apiserver answers
a body it cannot decode with 400 BadRequest.

gRPC Python answers a deserializer that raises with UNKNOWN ("Unexpected DecodeError"), a status
that says "server bug" to clients and retry loops. This interceptor, first in the server's list,
decodes the request itself; a request that does not decode never reaches the other interceptors
(authentication, authorization, metrics) or the servicer."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

import grpc
from google.protobuf.message import DecodeError, Message

from apiserver.endpoints.grpc.interceptors.handler_wrapping import (
    Stream,
    Unary,
    Undecodable,
    WrappingInterceptor,
    abort,
    wrap_behaviors,
)
from apiserver.endpoints.request import undecodable_error


def _tolerant(
    deserializer: Callable[[bytes], Message] | None,
) -> Callable[[bytes], Message | Undecodable] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> Message | Undecodable:
        try:
            return deserializer(data)
        except (DecodeError, RecursionError, ValueError) as e:
            return Undecodable(str(e) or type(e).__name__)

    return decode


def _unary(
    behavior: Unary,
) -> Callable[[Message | Undecodable, grpc.aio.ServicerContext], Awaitable[Message]]:
    async def handle(request: Message | Undecodable, context: grpc.aio.ServicerContext) -> Message:
        if isinstance(request, Undecodable):
            err = undecodable_error(request.reason)
            await abort(context, err.code, err.message)
        return await behavior(request, context)

    return handle


def _stream(
    behavior: Stream,
) -> Callable[[Message | Undecodable, grpc.aio.ServicerContext], AsyncGenerator[Message, None]]:
    async def stream(
        request: Message | Undecodable, context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[Message, None]:
        if isinstance(request, Undecodable):
            err = undecodable_error(request.reason)
            await abort(context, err.code, err.message)
        async for response in behavior(request, context):
            yield response

    return stream


class RequestDecodingInterceptor(WrappingInterceptor):
    """Undecodable unary requests (every apiserver method takes one request message) end with
    INVALID_ARGUMENT; so does a request stream whose message does not decode (the stream reads
    Undecodable and ends). Other handlers pass through."""

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if handler.request_deserializer is None:
            return handler
        return wrap_behaviors(
            handler, _unary, _stream, request_deserializer=_tolerant(handler.request_deserializer)
        )
