"""How a call ends with an error status: APIErrors as gRPC statuses (the code Kubernetes' status
maps to: NOT_FOUND, ALREADY_EXISTS, ABORTED, INVALID_ARGUMENT, ...; the message cut to what a
trailer carries). One decorator gives every servicer method, unary or streaming, that answer for
the APIError the domain code raises."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn, TypeVar, overload

import grpc

from apiserver import errors
from apiserver.endpoints.grpc.interceptors.handler_wrapping import abort

# The trailing metadata key clients read a refusal's wait from (podplane.client.retry_after).
RETRY_AFTER_KEY = "retry-after"
S = TypeVar("S")
Req = TypeVar("Req")
Resp = TypeVar("Resp")


async def abort_with(context: grpc.aio.ServicerContext, err: errors.APIError) -> NoReturn:
    """Ends the call with the error's status, its message cut to what a trailer carries; a
    refusal that says when to ask again (an eviction whose budget is still being processed)
    carries it as the retry-after the overload guard's refusals carry."""
    trailer: tuple[tuple[str, str], ...] = ()
    if err.details is not None and err.details.retry_after_seconds:
        trailer = ((RETRY_AFTER_KEY, str(err.details.retry_after_seconds)),)
    await abort(context, err.code, errors.status_message(err.message), trailer)


@overload
def api_errors_as_status(
    method: Callable[[S, Req, grpc.aio.ServicerContext], AsyncIterator[Resp]],
) -> Callable[[S, Req, grpc.aio.ServicerContext], AsyncIterator[Resp]]: ...


@overload
def api_errors_as_status(
    method: Callable[[S, Req, grpc.aio.ServicerContext], Awaitable[Resp]],
) -> Callable[[S, Req, grpc.aio.ServicerContext], Awaitable[Resp]]: ...


def api_errors_as_status(method: Callable[..., Any]) -> Callable[..., Any]:
    """The servicer method with an APIError it raises ending the call with its status; a
    streaming method (an async generator) stays one."""
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def stream(
            self: object, request: object, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[object]:
            try:
                async with contextlib.aclosing(method(self, request, context)) as responses:
                    async for response in responses:
                        yield response
            except errors.APIError as e:
                await abort_with(context, e)

        return stream

    @functools.wraps(method)
    async def unary(self: object, request: object, context: grpc.aio.ServicerContext) -> object:
        try:
            return await method(self, request, context)
        except errors.APIError as e:
            await abort_with(context, e)

    return unary
