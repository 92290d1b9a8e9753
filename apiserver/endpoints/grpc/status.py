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
from apiserver.admission import warnings as admission_warnings
from apiserver.endpoints.grpc.interceptors.handler_wrapping import abort

# The trailing metadata key clients read a refusal's wait from (podplane.client.retry_after).
RETRY_AFTER_KEY = "retry-after"
# The trailing metadata key of each warning the request's answer carries (apiserver/admission/
# warnings.py: an admission webhook's or policy's), the REST door's Warning header.
WARNING_KEY = "warning"
S = TypeVar("S")
Req = TypeVar("Req")
Resp = TypeVar("Resp")


def warning_trailer(warnings: list[str]) -> tuple[tuple[str, str], ...]:
    """Each warning once, as printable ASCII (what a metadata value may hold; others escaped)."""
    return tuple(
        (
            WARNING_KEY,
            "".join(c if " " <= c <= "~" else c.encode("unicode_escape").decode() for c in w),
        )
        for w in dict.fromkeys(warnings)
    )


async def abort_with(
    context: grpc.aio.ServicerContext, err: errors.APIError, warnings: list[str] | None = None
) -> NoReturn:
    """Ends the call with the error's status, its message cut to what a trailer carries; a
    refusal that says when to ask again (an eviction whose budget is still being processed)
    carries it as the retry-after the overload guard's refusals carry; the request's warnings
    as `warning` trailers."""
    trailer: tuple[tuple[str, str], ...] = warning_trailer(warnings or [])
    if err.details is not None and err.details.retry_after_seconds:
        trailer += ((RETRY_AFTER_KEY, str(err.details.retry_after_seconds)),)
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
        recorder = admission_warnings.current()  # the admission recording interceptor's
        warnings = recorder.warnings if recorder is not None else []
        try:
            answer = await method(self, request, context)
        except errors.APIError as e:
            await abort_with(context, e, warnings)
        if warnings:
            context.set_trailing_metadata(warning_trailer(warnings))
        return answer

    return unary
