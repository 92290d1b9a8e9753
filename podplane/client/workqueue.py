"""A deduplicating work queue with per-key exponential back-off (client-go util/workqueue).

A key is held by at most one worker at a time; a key added while it is being processed is queued
again once the worker calls done(), so no change is lost and no key is processed concurrently.
A key waiting to be added later (add_after) waits once, for the earliest time asked, as in
client-go's delaying queue. A named queue reports client-go's workqueue_* metrics under its
name."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from podplane.client.workqueue_metrics import QueueMetrics

K = TypeVar("K")


class ShutDown(Exception):
    pass


class WorkQueue(Generic[K]):
    def __init__(
        self, base_delay: float = 0.005, max_delay: float = 300.0, *, name: str = ""
    ) -> None:
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._failures: dict[K, int] = {}
        # Keys waiting for add_after: when each is due (the loop's clock) and its timer.
        self._waiting: dict[K, tuple[float, asyncio.TimerHandle]] = {}
        # Workers blocked in get(), woken one per key queued: a future each, not a Condition,
        # whose notify needs its lock, so a task per add.
        self._getters: deque[asyncio.Future[None]] = deque()
        self._shutting_down = False
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.name = name
        # An unnamed queue reports nothing, as in client-go.
        self._metrics: QueueMetrics[K] | None = QueueMetrics(name) if name else None

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: K) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if self._metrics is not None:
            self._metrics.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._wake()

    def _wake(self) -> None:
        """Wakes one worker blocked in get(), if any."""
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)
                return

    def add_after(self, key: K, delay: float) -> None:
        """Adds the key after `delay` seconds; a key already waiting waits for the sooner of the
        two times (client-go's AddAfter): whoever processes it then asks again if need be."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        waiting = self._waiting.get(key)
        if waiting is not None:
            if waiting[0] <= due:
                return
            waiting[1].cancel()

        def fire() -> None:
            del self._waiting[key]
            self.add(key)

        self._waiting[key] = (due, loop.call_at(due, fire))

    def add_rate_limited(self, key: K) -> None:
        """Re-adds a key that failed, after base_delay * 2^failures (capped at max_delay)."""
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        if self._metrics is not None:
            self._metrics.retry()
        self.add_after(key, min(self.base_delay * (2**n), self.max_delay))

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: K) -> int:
        return self._failures.get(key, 0)

    async def get(self) -> K:
        """The next key; the caller must call done(key) when finished with it."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown()
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except asyncio.CancelledError:
                if getter.done() and not getter.cancelled():
                    self._wake()  # woken, then cancelled: another worker takes the key
                raise
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        if self._metrics is not None:
            self._metrics.get(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if self._metrics is not None:
            self._metrics.done(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake()

    async def run_worker(self, process: Callable[[K], Awaitable[None]]) -> None:
        """One worker: takes a key at a time, calls process(key) and marks the key done; returns
        once the queue shuts down (client-go's processNextWorkItem loop). process decides about
        forget, add_after and add_rate_limited."""
        while True:
            try:
                key = await self.get()
            except ShutDown:
                return
            try:
                await process(key)
            finally:
                self.done(key)

    async def shutdown(self) -> None:
        self._shutting_down = True
        for _, timer in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
        while self._getters:
            self._wake()
