"""A deduplicating work queue with per-key exponential back-off (client-go util/workqueue).

A key is held by at most one worker at a time; a key added while it is being processed is queued
again once the worker calls done(), so no change is lost and no key is processed concurrently.
A named queue reports client-go's workqueue_* metrics under its name."""

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
        self._timers: set[asyncio.TimerHandle] = set()
        self._cond = asyncio.Condition()
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
        async def notify() -> None:
            async with self._cond:
                self._cond.notify()

        asyncio.get_running_loop().create_task(notify())

    def add_after(self, key: K, delay: float) -> None:
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._timers.discard(handle)
            self.add(key)

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)

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
        async with self._cond:
            while not self._queue:
                if self._shutting_down:
                    raise ShutDown()
                await self._cond.wait()
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
        for t in self._timers:
            t.cancel()
        self._timers.clear()
        async with self._cond:
            self._cond.notify_all()
