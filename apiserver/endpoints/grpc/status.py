"""APIErrors as gRPC statuses: the code Kubernetes' status maps to (NOT_FOUND, ALREADY_EXISTS,
ABORTED, INVALID_ARGUMENT, ...) and its message, cut to what a trailer carries. One decorator gives
every servicer method, unary or streaming, that answer for the APIError the domain code raises."""
from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar, overload

import grpc

from apiserver import errors

S = TypeVar("S")
Req = TypeVar("Req")
Resp = TypeVar("Resp")


async def abort(context: grpc.aio.ServicerContext, err: errors.APIError) -> None:
    """Ends the call with the error's status (raises)."""
    await context.abort(err.code, errors.status_message(err.message))


@overload
def api_errors_as_status(
        method: Callable[[S, Req, grpc.aio.ServicerContext], AsyncIterator[Resp]],
) -> Callable[[S, Req, grpc.aio.ServicerContext], AsyncIterator[Resp]]: ...


@overload
def api_errors_as_status(
        method: Callable[[S, Req, grpc.aio.ServicerContext], Coroutine[Any, Any, Resp]],
) -> Callable[[S, Req, grpc.aio.ServicerContext], Coroutine[Any, Any, Resp | None]]: ...


def api_errors_as_status(method: Callable[..., Any]) -> Callable[..., Any]:
    """The servicer method with an APIError it raises ending the call with its status; a
    streaming method (an async generator) stays one."""
    if inspect.isasyncgenfunction(method):
        @functools.wraps(method)
        async def stream(self: Any, request: Any,
                         context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                async with contextlib.aclosing(method(self, request, context)) as responses:
                    async for response in responses:
                        yield response
            except errors.APIError as e:
                await abort(context, e)
        return stream

    @functools.wraps(method)
    async def unary(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except errors.APIError as e:
            await abort(context, e)
        return None
    return unary
