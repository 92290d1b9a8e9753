"""Pod workers: a deduplicating work queue of pod keys (namespace/name) drained by a pool of
workers, so each pod is synced by one worker at a time and a pod that changes while it is being
synced is synced again afterwards. Failures back off per pod; back-offs that end requeue the pod.
Each sync is timed into kubelet_pod_worker_duration_seconds by operation (create, sync, kill).
Until the kubelet's sources are ready (the API's pods listed), only static pods are synced: the
others are held, so a kubelet whose apiserver does not answer yet runs its static pods and
touches nothing else."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import grpc

from kubelet import metrics
from kubelet.pod.sync import PodSyncer
from kubelet.runtime.types import ContainerRuntimeError
from kubelet.volume.pod_volumes import VolumeError
from podplane.api.core.v1 import core_pb2
from podplane.client.workqueue import WorkQueue

log = logging.getLogger(__name__)
WORKERS = 16


class PodWorkers:
    def __init__(
        self,
        syncer: PodSyncer,
        get_pod: Callable[[str], core_pb2.Pod | None],
        workers: int = WORKERS,
        ready: Callable[[str], bool] | None = None,
    ) -> None:
        """`ready` says whether a pod may be synced yet (the kubelet's sources being ready:
        before the API's pods are known, only static pods are); the others wait until
        `release`."""
        self.syncer = syncer
        self.get_pod = get_pod
        self.workers = workers
        self.ready = ready
        self._held: set[str] = set()
        self.queue: WorkQueue[str] = WorkQueue(base_delay=0.5, max_delay=60.0, name="pod_workers")
        # The pod uid last synced per key: a new uid is a "create".
        self._synced_uids: dict[str, str] = {}

    def _operation(self, key: str, pod: core_pb2.Pod | None) -> str:
        if pod is None or pod.metadata.deletion_timestamp:
            self._synced_uids.pop(key, None)
            return "kill"
        if self._synced_uids.get(key) != pod.metadata.uid:
            self._synced_uids[key] = pod.metadata.uid
            return "create"
        return "sync"

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    def release(self) -> None:
        """Syncs the pods held until the sources were ready."""
        held, self._held = self._held, set()
        for key in held:
            self.queue.add(key)

    async def sync_one(self, key: str) -> None:
        if self.ready is not None and not self.ready(key):
            # Unknown yet: an API pod (or none at all) is neither started nor killed before
            # the API's pods are listed.
            self._held.add(key)
            self.queue.forget(key)
            return
        pod = self.get_pod(key)
        duration = metrics.POD_WORKER_DURATION.labels(self._operation(key, pod))
        started = time.monotonic()
        try:
            requeue_after = await self.syncer.sync(key, pod)
        except Exception as e:
            expected = isinstance(
                e, (ContainerRuntimeError, VolumeError, grpc.aio.AioRpcError, OSError)
            )
            log.warning("syncing pod %s failed: %s; retrying", key, e, exc_info=not expected)
            self.queue.add_rate_limited(key)
            return
        finally:
            duration.observe(time.monotonic() - started)
        self.queue.forget(key)
        if requeue_after is not None:
            self.queue.add_after(key, requeue_after)

    async def _worker(self) -> None:
        await self.queue.run_worker(self.sync_one)

    async def run(self) -> None:
        """Runs the workers until cancelled."""
        tasks = [
            asyncio.create_task(self._worker(), name=f"pod-worker-{i}") for i in range(self.workers)
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await self.queue.shutdown()
