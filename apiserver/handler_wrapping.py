"""What the apiserver's interceptors share: a method handler with its behaviors wrapped. Every
apiserver method takes one request; its answer is one message (unary) or a stream an async
generator yields (unary-stream). Handlers of other shapes pass through unchanged."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import grpc

Behavior = Callable[[Any, grpc.aio.ServicerContext], Any]
Wrap = Callable[[Behavior], Behavior]


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
