"""How often a sync runs (pkg/util/async's BoundedFrequencyRunner): at once when asked, unless
runs have used up their burst, then at most one every `min_interval`; requests that arrive
meanwhile are folded into the next run. Runs never overlap. A run also happens `max_interval`
after the last one when nothing asks, and `retry_after` schedules one after a failure."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class BoundedFrequencyRunner:
    def __init__(
        self,
        name: str,
        fn: Callable[[], Awaitable[None]],
        min_interval: float,
        max_interval: float,
        burst: int = 2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min_interval < 0 or max_interval <= 0 or burst < 1:
            raise ValueError("min_interval >= 0, max_interval > 0 and burst >= 1 are required")
        self.name = name
        self._fn = fn
        self._min_interval = min_interval
        self._max_interval = max_interval
        self._burst = burst
        self._clock = clock
        # A token bucket: `burst` runs at once, refilled at one per min_interval.
        self._tokens = float(burst)
        self._refilled = clock()
        self._last_run = clock()
        self._retry_at: float | None = None
        self._requested = False
        self._wake = asyncio.Event()
        self.runs = 0

    def run(self) -> None:
        """Asks for a run as soon as the limits allow; never waits."""
        self._requested = True
        self._wake.set()

    def retry_after(self, interval: float) -> None:
        """A run no later than `interval` from now (a failed run's retry)."""
        at = self._clock() + interval
        if self._retry_at is None or at < self._retry_at:
            self._retry_at = at
        self._wake.set()  # the loop recomputes its deadline

    def _refill(self, now: float) -> None:
        if self._min_interval == 0:
            self._tokens = float(self._burst)
        else:
            earned = (now - self._refilled) / self._min_interval
            self._tokens = min(float(self._burst), self._tokens + earned)
        self._refilled = now

    def _token_wait(self, now: float) -> float:
        """Seconds until a run is allowed (0: now)."""
        self._refill(now)
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) * self._min_interval

    async def loop(self) -> None:
        """Runs until cancelled."""
        pending = False
        while True:
            now = self._clock()
            if pending:
                timeout = self._token_wait(now)
            else:
                deadline = self._last_run + self._max_interval
                if self._retry_at is not None:
                    deadline = min(deadline, self._retry_at)
                timeout = max(deadline - now, 0.0)
            if timeout > 0:
                try:
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
                except TimeoutError:
                    pass
            self._wake.clear()
            now = self._clock()
            if self._requested or self._last_run + self._max_interval <= now:
                pending = True
            if self._retry_at is not None and self._retry_at <= now:
                pending = True
            self._requested = False
            if not pending or self._token_wait(now) > 0:
                continue
            self._tokens -= 1
            pending = False
            self._retry_at = None
            self._last_run = now
            self.runs += 1
            try:
                await self._fn()
            except Exception:
                log.exception("%s: run failed", self.name)
