""" "At once" and "by its limit" for the flow-control tests, told by the event loop rather than by
a stopwatch that a busy host could fail: a call that never suspends did not wait, and a timer
fires after every earlier one, however late the loop runs them."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from apiserver.flowcontrol.queueset import QueueSet

T = TypeVar("T")


def at_once(call: Coroutine[Any, Any, T]) -> T:
    """What `call` returns, which it must do without ever suspending (waiting for nothing)."""
    try:
        call.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    call.close()
    raise AssertionError("it waited")


def waiting_after(delay: float, queues: QueueSet) -> asyncio.Future[int]:
    """How many requests wait in `queues` when a timer set now for `delay` seconds fires: a
    request whose wait was set before it, ending no later, is out of the queue by then."""
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[int] = loop.create_future()

    def look() -> None:
        if not seen.cancelled():
            seen.set_result(queues.waiting)

    loop.call_later(delay, look)
    return seen
