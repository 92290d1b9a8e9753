"""What the apiserver's interceptors share: a method handler with its behaviors wrapped, and the
end of a call with a status. Every apiserver method takes one request; its answer is one message
(unary) or a stream an async generator yields (unary-stream). Handlers of other shapes pass
through unchanged."""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, NoReturn, TypeVar

import grpc
from google.protobuf.message import Message

# What a method handler runs for each call (its "behavior"): a unary method's answer, or a
# unary-stream method's messages. gRPC has no types of its own for these.
Unary = Callable[[Message, grpc.aio.ServicerContext], Awaitable[Message]]
Stream = Callable[[Message, grpc.aio.ServicerContext], AsyncGenerator[Message, None]]
T = TypeVar("T")
# A call's metadata: (key, value) pairs.
Metadata = tuple[tuple[str, str | bytes], ...]


async def abort(
    context: grpc.aio.ServicerContext,
    code: grpc.StatusCode,
    message: str,
    trailing_metadata: Metadata = (),
) -> NoReturn:
    """Ends the call with the status. gRPC's context.abort raises; this says so to the types."""
    await context.abort(code, message, trailing_metadata=trailing_metadata)
    raise AssertionError("context.abort returned")  # never: it raises


def wrap_behaviors(
    handler: grpc.RpcMethodHandler,
    unary: Callable[[Unary], Unary],
    stream: Callable[[Stream], Stream],
    request_deserializer: Callable[[bytes], object] | None = None,
) -> grpc.RpcMethodHandler:
    """`handler` with its unary behavior passed through `unary` and its unary-stream one through
    `stream`; `request_deserializer` replaces the handler's when given."""
    deserializer = request_deserializer or handler.request_deserializer
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            unary(handler.unary_unary),
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None and inspect.isasyncgenfunction(handler.unary_stream):
        return grpc.unary_stream_rpc_method_handler(
            stream(handler.unary_stream),
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler


class PerMethod(Generic[T]):
    """What an interceptor makes of a method's handler, made on the method's first call and kept:
    it depends on the method and that handler alone (the behaviors get each call's request and
    context as arguments), and remaking it cost every call a few handler objects, closures and a
    parse of the method name, for each interceptor. Kept for the last VARIANTS handlers a method
    came with (the overload guard gives two: serving and refusing). Only methods with a handler
    are asked for, so clients naming unknown methods do not grow it."""

    VARIANTS = 2

    def __init__(self, make: Callable[[str, grpc.RpcMethodHandler], T]) -> None:
        self._make = make
        self._made: dict[str, tuple[tuple[grpc.RpcMethodHandler, T], ...]] = {}

    def get(self, method: str, handler: grpc.RpcMethodHandler) -> T:
        made = self._made.get(method, ())
        for given, result in made:
            if given is handler:
                return result
        result = self._make(method, handler)
        self._made[method] = ((handler, result), *made[: self.VARIANTS - 1])
        return result


class WrappingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """An interceptor that serves each method through the handler wrap_handler makes of it, made
    once per method and handler (PerMethod)."""

    def __init__(self) -> None:
        self._wrapped: PerMethod[grpc.RpcMethodHandler] = PerMethod(self.wrap_handler)

    def wrap_handler(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(details)
        if handler is None:
            return None
        return self._wrapped.get(details.method, handler)
