"""The loop every controller runs (client-go's sample-controller): handlers enqueue keys, workers
take a key at a time from a deduplicating work queue and call an idempotent reconcile(key); an error
requeues the key with per-key exponential back-off, a requested recheck requeues it after a delay,
success forgets it. The informers are the process's shared ones (SharedInformerFactory): the loop
does not run them, it waits for their caches before its workers start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from podplane.client.informer import Syncable, wait_for_sync
from podplane.client.informer_factory import SharedInformerFactory
from podplane.client.workqueue import WorkQueue

log = logging.getLogger(__name__)

# reconcile(key) returns None when done, or the seconds after which to look at the key again.
Reconcile = Callable[[str], Awaitable[float | None]]


class ReconcileLoop:
    def __init__(
        self,
        name: str,
        reconcile: Reconcile,
        factory: SharedInformerFactory,
        informers: list[Syncable],
        *,
        workers: int = 1,
        queue: WorkQueue[str] | None = None,
    ) -> None:
        """`informers`, the factory's, are those whose caches `reconcile` reads."""
        self.name = name
        self.reconcile = reconcile
        self.factory = factory
        self.informers = informers
        self.workers = workers
        self.queue: WorkQueue[str] = queue or WorkQueue(
            base_delay=0.005, max_delay=300.0, name=name
        )

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    async def run(self) -> None:
        """Once the informers' caches are synced, runs the workers; until cancelled. Whoever
        made the factory starts it (the controller-manager, before its controllers); a controller
        run on its own with a factory no one started (in tests) has its loop start the factory
        and stop it at the end."""
        owns_factory = not self.factory.started
        if owns_factory:
            self.factory.start()
        try:
            await wait_for_sync(*self.informers)
            log.info("%s controller: caches synced, %d worker(s)", self.name, self.workers)
            await asyncio.gather(*(self._worker() for _ in range(self.workers)))
        finally:
            await self.queue.shutdown()
            if owns_factory:
                await self.factory.shutdown()

    async def _worker(self) -> None:
        await self.queue.run_worker(self._process)

    async def _process(self, key: str) -> None:
        try:
            again = await self.reconcile(key)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - retried with back-off
            log.warning(
                "%s controller: %s: %s (retry %d)",
                self.name,
                key,
                e,
                self.queue.num_requeues(key) + 1,
            )
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)
            if again is not None:
                self.queue.add_after(key, again)
