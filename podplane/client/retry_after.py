"""Retrying a call the apiserver refused because it was overloaded (client-go's handling of 429 Too
Many Requests with Retry-After: up to 10 retries, each after at least the server's hint).

Only RESOURCE_EXHAUSTED *with* a retry-after hint in the trailing metadata is retried: that is the
max-in-flight guard, which refuses a request before it does anything, so repeating any verb -
create, update, delete, bind - cannot apply it twice. A RESOURCE_EXHAUSTED without the hint (gRPC's
own "message larger than max") is final and raised at once.

The waits grow by half each time and carry jitter, so hundreds of clients refused together do not
return together; the whole call, retries included, stays within the caller's timeout."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

R = TypeVar("R")

RETRY_AFTER_KEY = "retry-after"
MAX_RETRIES = 10  # client-go's default maxRetries
MAX_WAIT = 10.0  # seconds, before jitter


def retry_after(err: BaseException) -> float | None:
    """The seconds a RESOURCE_EXHAUSTED refusal asks the client to wait; None when `err` is not
    such a refusal (or carries no usable hint)."""
    if not isinstance(err, grpc.aio.AioRpcError):
        return None
    if err.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
        return None
    for key, value in err.trailing_metadata() or ():
        if key == RETRY_AFTER_KEY:
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                return None
            return seconds if seconds >= 0 else None
    return None


def wait_before_retry(hint: float, retry: int, rand: Callable[[], float] = random.random) -> float:
    """How long to wait before retry number `retry` (0-based): the hint, grown by half per retry up
    to MAX_WAIT, plus up to 50% jitter; never less than the hint."""
    base = min(max(hint, 0.05) * 1.5**retry, max(MAX_WAIT, hint))
    return base * (1 + rand() / 2)


async def call_with_retry(call: Callable[[float | None], Awaitable[R]], timeout: float | None) -> R:
    """Runs `call(remaining_timeout)`, again after each overload refusal, at most MAX_RETRIES
    more times and while the wait still fits in `timeout` (None: no deadline)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    retry = 0
    while True:
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.001)
        try:
            return await call(remaining)
        except grpc.aio.AioRpcError as err:
            hint = retry_after(err)
            if hint is None or retry >= MAX_RETRIES:
                raise
            wait = wait_before_retry(hint, retry)
            if deadline is not None and time.monotonic() + wait >= deadline:
                raise
            retry += 1
            await asyncio.sleep(wait)
