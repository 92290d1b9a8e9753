"""The loop each definition controller runs: the definitions' watch cache enqueues names, workers
reconcile one name at a time from a deduplicating work queue (podplane/client/workqueue.py); an
error requeues the name with back-off, a requested recheck after its delay."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from podplane.client.workqueue import WorkQueue

log = logging.getLogger(__name__)

# reconcile(name) returns None when done, or the seconds after which to look again.
Reconcile = Callable[[str], Awaitable[float | None]]


class DefinitionLoop:
    def __init__(self, name: str, reconcile: Reconcile, *, workers: int = 1) -> None:
        self.name = name
        self.reconcile = reconcile
        self.workers = workers
        self.queue: WorkQueue[str] = WorkQueue(base_delay=0.005, max_delay=30.0, name=name)

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    async def run(self) -> None:
        try:
            await asyncio.gather(
                *(self.queue.run_worker(self._process) for _ in range(self.workers))
            )
        finally:
            await self.queue.shutdown()

    async def _process(self, key: str) -> None:
        try:
            again = await self.reconcile(key)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - retried with back-off
            log.warning("%s: %s: %s", self.name, key, e)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)
            if again is not None:
                self.queue.add_after(key, again)
