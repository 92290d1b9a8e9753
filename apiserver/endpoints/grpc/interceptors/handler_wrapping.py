"""What the apiserver's interceptors share: a method handler with its behaviors wrapped. Every
apiserver method takes one request; its answer is one message (unary) or a stream an async
generator yields (unary-stream). Handlers of other shapes pass through unchanged."""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import grpc

Behavior = Callable[[Any, grpc.aio.ServicerContext], Any]
Wrap = Callable[[Behavior], Behavior]
T = TypeVar("T")


def wrap_behaviors(handler: Any, unary: Wrap, stream: Wrap,
                   request_deserializer: Callable[[bytes], Any] | None = None) -> Any:
    """`handler` with its unary behavior passed through `unary` and its unary-stream one through
    `stream`; `request_deserializer` replaces the handler's when given."""
    deserializer = request_deserializer or handler.request_deserializer
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            unary(handler.unary_unary), request_deserializer=deserializer,
            response_serializer=handler.response_serializer)
    if handler.unary_stream is not None and inspect.isasyncgenfunction(handler.unary_stream):
        return grpc.unary_stream_rpc_method_handler(
            stream(handler.unary_stream), request_deserializer=deserializer,
            response_serializer=handler.response_serializer)
    return handler


class PerMethod(Generic[T]):
    """What an interceptor makes of a method's handler, made on the method's first call and kept:
    it depends on the method and that handler alone (the behaviors get each call's request and
    context as arguments), and remaking it cost every call a few handler objects, closures and a
    parse of the method name, for each interceptor. Kept for the last VARIANTS handlers a method
    came with (the overload guard gives two: serving and refusing). Only methods with a handler
    are asked for, so clients naming unknown methods do not grow it."""
    VARIANTS = 2

    def __init__(self, make: Callable[[str, Any], T]) -> None:
        self._make = make
        self._made: dict[str, tuple[tuple[Any, T], ...]] = {}

    def get(self, method: str, handler: Any) -> T:
        made = self._made.get(method, ())
        for given, result in made:
            if given is handler:
                return result
        result = self._make(method, handler)
        self._made[method] = ((handler, result), *made[:self.VARIANTS - 1])
        return result


class WrappingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """An interceptor that serves each method through the handler wrap_handler makes of it, made
    once per method and handler (PerMethod)."""

    def __init__(self) -> None:
        self._wrapped: PerMethod[Any] = PerMethod(self.wrap_handler)

    def wrap_handler(self, method: str, handler: Any) -> Any:
        raise NotImplementedError

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]],
                                details: grpc.HandlerCallDetails) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        return self._wrapped.get(details.method, handler)
