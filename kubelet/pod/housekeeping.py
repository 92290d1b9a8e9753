"""Periodic housekeeping (kubelet.go HandlePodCleanups): containers of pods no longer bound here are
handed to the workers, which remove them; directories of pods that are gone are deleted, their log
directories too (kubelet/logs/pod_directories.py); and every pod is synced again once a minute
(the kubelet's --sync-frequency, 1m), so nothing depends on a single event."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from kubelet.logs import pod_directories
from kubelet.pod.pleg import PodLifecycleEventGenerator
from kubelet.pod.workers import PodWorkers
from kubelet.volume.pod_volumes import PodVolumes
from podplane.api.core.v1 import core_pb2

log = logging.getLogger(__name__)
PERIOD = 10.0
# Every wanted pod is synced again this often (KubeletConfiguration's syncFrequency).
SYNC_FREQUENCY = 60.0


class Housekeeping:
    def __init__(
        self,
        workers: PodWorkers,
        pleg: PodLifecycleEventGenerator,
        volumes: PodVolumes,
        desired_pods: Callable[[], list[core_pb2.Pod]],
        period: float = PERIOD,
        pod_logs_dir: str = "",
        sync_frequency: float = SYNC_FREQUENCY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workers = workers
        self.pleg = pleg
        self.volumes = volumes
        self.desired_pods = desired_pods
        self.period = period
        self.sync_frequency = sync_frequency
        self.clock = clock
        self._last_resync: float | None = None
        # A CRI runtime's pod log directories ("": none kept here).
        self.pod_logs_dir = pod_logs_dir

    async def run_once(self) -> None:
        desired = {
            f"{p.metadata.namespace}/{p.metadata.name}": p.metadata.uid for p in self.desired_pods()
        }
        now = self.clock()
        if self._last_resync is None or now - self._last_resync >= self.sync_frequency:
            self._last_resync = now
            for key in desired:
                self.workers.enqueue(key)
        in_runtime = self.pleg.pods_in_runtime
        for key, uids in in_runtime.items():
            if any(uid != desired.get(key) for uid in uids):
                self.workers.enqueue(key)  # the sync of the key removes the strays
        known = set(desired.values()) | {uid for uids in in_runtime.values() for uid in uids}
        for uid in self.volumes.pod_uids_on_disk():
            if uid not in known:
                log.info("removing the directory of pod uid %s, which is gone", uid)
                await self.volumes.teardown(uid)
        if self.pod_logs_dir:
            await asyncio.to_thread(pod_directories.remove_dead, self.pod_logs_dir, known)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            try:
                await self.run_once()
            except Exception:
                log.exception("housekeeping failed")
