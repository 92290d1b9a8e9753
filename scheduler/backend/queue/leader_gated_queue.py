"""The scheduling queue of a replica that schedules only while it holds the leader lease.

kube-scheduler starts its informers before it runs for the lease, so a standby's caches and queue
are warm and it can schedule the moment it takes over; only scheduleOne waits for leadership. Here
the informers fill this queue on every replica, and pop() hands out pods only while lead() runs and
the lease is still valid."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import NoReturn

from scheduler.backend.queue.scheduling_queue import QueueClosed, QueuedPodInfo, SchedulingQueue

log = logging.getLogger(__name__)


class LeaderGatedQueue(SchedulingQueue):
    """Without `lease_valid` (no leader election) the queue is open from the start; with it, it
    opens while lead() runs, and each pod it hands out is checked against `lease_valid()` first."""

    def __init__(self, *, lease_valid: Callable[[], bool] | None = None) -> None:
        super().__init__()
        self._lease_valid = lease_valid or (lambda: True)
        self._leading = lease_valid is None
        self._stopped = False
        self._open = asyncio.Event()  # leading, or closed (pop must raise QueueClosed then)
        if self._leading:
            self._open.set()

    @property
    def leading(self) -> bool:
        return self._leading

    async def lead(self) -> NoReturn:
        """Opens the queue to the scheduler until cancelled (leadership lost or a stop)."""
        log.info("leading: %d pod(s) waiting to be scheduled", sum(self.pending().values()))
        self._leading = True
        self._open.set()
        try:
            await asyncio.get_running_loop().create_future()  # until cancelled
            raise AssertionError("unreachable")
        finally:
            self._leading = False
            if not self._stopped:
                self._open.clear()

    async def pop(self) -> QueuedPodInfo:
        while True:
            await self._open.wait()
            if self._stopped:
                raise QueueClosed()  # the queue would hand out what it holds until empty
            pinfo = await super().pop()
            if self._leading and self._lease_valid():
                return pinfo
            # Leadership ended (or is running out) while pop waited: no decision without the
            # lease; the pod waits out a back-off, by when lead() has been cancelled.
            self.add_unschedulable_if_not_present(pinfo, error=True)

    def close(self) -> None:
        self._stopped = True
        self._open.set()
        super().close()
