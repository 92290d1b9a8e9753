"""Requests whose bytes are not the method's message: INVALID_ARGUMENT, as kube-apiserver answers
a body it cannot decode with 400 BadRequest.

gRPC Python answers a deserializer that raises with UNKNOWN ("Unexpected DecodeError"), a status
that says "server bug" to clients and retry loops. This interceptor, first in the server's list,
decodes the request itself; a request that does not decode never reaches the other interceptors
(authentication, authorization, metrics) or the servicer."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from apiserver.endpoints.grpc.interceptors.handler_wrapping import (Behavior, WrappingInterceptor,
                                                                   wrap_behaviors)
from apiserver.endpoints.request import undecodable_error


@dataclass(frozen=True)
class _Undecodable:
    """What the deserializer returns instead of raising: the behavior then aborts the call."""
    reason: str


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except (DecodeError, RecursionError, ValueError) as e:
            return _Undecodable(str(e) or type(e).__name__)
    return decode


def _unary(behavior: Behavior) -> Callable[..., Awaitable[Any]]:
    async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(request, _Undecodable):
            err = undecodable_error(request.reason)
            await context.abort(err.code, err.message)
        return await behavior(request, context)
    return handle


def _stream(behavior: Behavior) -> Callable[..., AsyncIterator[Any]]:
    async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        if isinstance(request, _Undecodable):
            err = undecodable_error(request.reason)
            await context.abort(err.code, err.message)
        async for response in behavior(request, context):
            yield response
    return stream


class RequestDecodingInterceptor(WrappingInterceptor):
    """Undecodable unary requests (every apiserver method takes one request message) end with
    INVALID_ARGUMENT; other handlers pass through."""

    def wrap_handler(self, method: str, handler: Any) -> Any:
        if handler.request_deserializer is None:
            return handler
        return wrap_behaviors(handler, _unary, _stream,
                              request_deserializer=_tolerant(handler.request_deserializer))
