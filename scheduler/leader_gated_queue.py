"""The scheduling queue of a replica that schedules only while it holds the leader lease.

kube-scheduler starts its informers before it runs for the lease, so a standby's caches and queue
are warm and it can schedule the moment it takes over; only scheduleOne waits for leadership. Here
the informers fill this queue on every replica, and pop() hands out pods only while lead() runs."""
from __future__ import annotations

import asyncio
import logging
from typing import NoReturn

from scheduler.queue import QueueClosed, QueuedPodInfo, SchedulingQueue

log = logging.getLogger(__name__)


class LeaderGatedQueue(SchedulingQueue):
    def __init__(self, *, leading: bool = False) -> None:
        super().__init__()
        self._open = asyncio.Event()  # leading, or closed (pop must raise QueueClosed then)
        self._leading = leading
        self._stopped = False
        if leading:
            self._open.set()

    @property
    def leading(self) -> bool:
        return self._leading

    async def lead(self) -> NoReturn:
        """Opens the queue to the scheduler until cancelled (leadership lost or a stop)."""
        log.info("leading: scheduling %d pending pod(s)", sum(self.pending().values()))
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
            if self._leading:
                return pinfo
            # Leadership ended while pop waited for a pod: no decision without the lease.
            self.add_unschedulable_if_not_present(pinfo, error=True)

    def close(self) -> None:
        self._stopped = True
        self._open.set()
        super().close()
