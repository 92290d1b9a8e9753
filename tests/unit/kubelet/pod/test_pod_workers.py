"""Pod workers requeue a pod when its back-off ends, retry a failed sync with back-off, and hold
the pods that may not sync yet (before the kubelet's sources are ready) until released."""

from __future__ import annotations

import asyncio

from kubelet.pod.workers import PodWorkers
from podplane.api.core.v1 import core_pb2
from tests.unit import waiting


class ScriptedSyncer:
    def __init__(self, results: list[float | Exception | None]) -> None:
        self.results = results
        self.synced: list[str] = []

    async def sync(self, key: str, pod: core_pb2.Pod | None) -> float | None:
        self.synced.append(key)
        result = self.results.pop(0) if self.results else None
        if isinstance(result, Exception):
            raise result
        return result


async def test_requeue_after_back_off_and_retry_after_failure() -> None:
    syncer = ScriptedSyncer([0.05, RuntimeError("engine hiccup"), None])
    workers = PodWorkers(syncer, lambda key: None, workers=2)  # type: ignore[arg-type]
    workers.queue.base_delay = 0.05
    task = asyncio.create_task(workers.run())
    try:
        workers.enqueue("default/web")
        await waiting.until(lambda: len(syncer.synced) >= 3, "three syncs", interval=0.02)
        assert syncer.synced == ["default/web"] * 3
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_only_ready_pods_sync_until_the_held_ones_are_released() -> None:
    """Before the API's pods are listed only static pods sync; the rest wait, untouched (no
    kill of a pod that is merely unknown yet), and sync once released."""
    syncer = ScriptedSyncer([])
    ready = {"kube-system/etcd-cp-1"}
    workers = PodWorkers(syncer, lambda key: None, ready=ready.__contains__)  # type: ignore[arg-type]
    task = asyncio.create_task(workers.run())
    try:
        workers.enqueue("default/web")
        workers.enqueue("kube-system/etcd-cp-1")
        await waiting.until(lambda: syncer.synced, "the static pod's sync", interval=0.01)
        await asyncio.sleep(0.5)  # the held pod does not sync meanwhile
        assert syncer.synced == ["kube-system/etcd-cp-1"]
        ready.add("default/web")
        workers.release()
        await waiting.until(lambda: len(syncer.synced) >= 2, "two syncs", interval=0.01)
        assert syncer.synced == ["kube-system/etcd-cp-1", "default/web"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
