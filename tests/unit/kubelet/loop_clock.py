"""The running event loop's clock, stopped for a test: timers (asyncio.sleep, wait_for's time-outs)
fire only when the test moves it on. "Stops waiting after its grace period, not before" is then
checked by moving time, not by timing a real wait that a busy host could stretch."""

from __future__ import annotations

import asyncio
import math

import pytest

# Loop turns that a due timer's wake-up takes to reach its task's end (wait_for cancelling what
# it waited for, the caller's own steps); a wait that has not ended after them is still waiting.
SETTLE_TURNS = 50


class LoopClock:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # A whole second, at or after the loop's time: whole seconds added to it and taken
        # from it are then exact. From the loop's own time (a fraction of a second past one),
        # "601 s later" could come out 600.99999999999 and a message read "600s ago" (the PLEG
        # test failed in two runs of three on this host).
        self.now = float(math.ceil(loop.time()))

    def __call__(self) -> float:
        return self.now

    async def advance(self, seconds: float) -> None:
        """Lets what is ready run (and set its timers), moves the clock on, then lets what the
        timers that came due wake run."""
        await settle()
        self.now += seconds
        await settle()


async def settle() -> None:
    for _ in range(SETTLE_TURNS):
        await asyncio.sleep(0)


def stop_loop_clock(monkeypatch: pytest.MonkeyPatch) -> LoopClock:
    """The running loop's clock, stopped until the test ends (called from within the test)."""
    loop = asyncio.get_running_loop()
    clock = LoopClock(loop)
    monkeypatch.setattr(loop, "time", clock)
    return clock
