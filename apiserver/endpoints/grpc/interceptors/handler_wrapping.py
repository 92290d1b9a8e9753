"""What the apiserver's interceptors share: a method handler with its behaviors wrapped, and the
end of a call with a status. Every apiserver method takes one request; its answer is one message
(unary) or a stream an async generator yields (unary-stream). A request stream (stream-stream,
apiserver.endpoints.grpc.request_stream) carries many requests of one unary method: the
interceptors wrap the behavior that serves each of them as they wrap a unary call's. Handlers of
other shapes pass through unchanged."""

from __future__ import annotations

import contextlib
import contextvars
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, NoReturn, Protocol, TypeVar

import grpc
from google.protobuf.message import Message

# What a method handler runs for each call (its "behavior"): a unary method's answer, or a
# unary-stream method's messages. gRPC has no types of its own for these.
Unary = Callable[[Message, grpc.aio.ServicerContext], Awaitable[Message]]
Stream = Callable[[Message, grpc.aio.ServicerContext], AsyncGenerator[Message, None]]
T = TypeVar("T")
# A call's metadata: (key, value) pairs.
Metadata = tuple[tuple[str, str | bytes], ...]
# When a request reached the server (time.monotonic()), which Kubernetes counts a request's wait
# in flow control from: a call's, set as its handler is looked up (the flow control interceptor);
# a request stream's request's, set as the message that carried it is read.
received_at: contextvars.ContextVar[float] = contextvars.ContextVar("podplane_received_at")


@dataclass(frozen=True)
class Undecodable:
    """What the request decoding interceptor's deserializer gives a behavior instead of raising
    (gRPC would end the call UNKNOWN): the behavior ends the call with INVALID_ARGUMENT."""

    reason: str


class ServesEachRequest(Protocol):
    """A request stream's behavior: `serve` runs the stream, each request through `serve_one`,
    the unary behavior an interceptor wraps (with_serve_one) as it wraps a unary call's."""

    @property
    def serve_one(self) -> Unary: ...

    def with_serve_one(self, serve_one: Unary) -> ServesEachRequest: ...

    def serve(
        self, messages: AsyncIterator[object], context: grpc.aio.ServicerContext
    ) -> AsyncGenerator[Message, None]: ...


def request_stream_of(handler: grpc.RpcMethodHandler) -> ServesEachRequest | None:
    """The request stream a stream-stream handler serves, if it is one (its behavior is the
    bound `serve` of a ServesEachRequest)."""
    owner = getattr(handler.stream_stream, "__self__", None)
    return owner if owner is not None and hasattr(owner, "with_serve_one") else None


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
    """`handler` with its unary behavior passed through `unary`, its unary-stream one through
    `stream`, and a request stream's behavior for each request through `unary`;
    `request_deserializer` replaces the handler's when given."""
    deserializer = request_deserializer or handler.request_deserializer
    requests = request_stream_of(handler) if handler.stream_stream is not None else None
    if requests is not None:
        return grpc.stream_stream_rpc_method_handler(
            requests.with_serve_one(unary(requests.serve_one)).serve,
            request_deserializer=deserializer,
            response_serializer=handler.response_serializer,
        )
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


# A method handler's four shapes: the attribute of its behavior, and the factory of a handler.
SHAPES = (
    ("unary_unary", grpc.unary_unary_rpc_method_handler),
    ("unary_stream", grpc.unary_stream_rpc_method_handler),
    ("stream_unary", grpc.stream_unary_rpc_method_handler),
    ("stream_stream", grpc.stream_stream_rpc_method_handler),
)


def checked_first(
    handler: grpc.RpcMethodHandler,
    check: Callable[[grpc.aio.ServicerContext], Awaitable[None]],
) -> grpc.RpcMethodHandler:
    """`handler`, of any shape (a service not the apiserver's own: reflection), with `check`
    awaited before its behavior runs: a call `check` ends (abort) never reaches it."""
    for kind, factory in SHAPES:
        behavior = getattr(handler, kind)
        if behavior is not None:
            return factory(
                _checked_behavior(behavior, check),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


def _checked_behavior(
    behavior: Callable[..., object],
    check: Callable[[grpc.aio.ServicerContext], Awaitable[None]],
) -> Callable[..., object]:
    if inspect.isasyncgenfunction(behavior):

        async def stream(
            request: object, context: grpc.aio.ServicerContext
        ) -> AsyncGenerator[object, None]:
            await check(context)
            async with contextlib.aclosing(behavior(request, context)) as answers:
                async for answer in answers:
                    yield answer

        return stream

    async def call(request: object, context: grpc.aio.ServicerContext) -> object:
        await check(context)
        result = behavior(request, context)
        return await result if inspect.isawaitable(result) else result

    return call


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
