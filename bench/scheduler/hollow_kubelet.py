"""The hollow nodes' kubelet, as much of one as the load test needs (kubemark's hollow kubelet runs
a fake runtime; here nothing runs at all): a pod deleted gracefully on a hollow node, such as a
preemption's victim, has no containers to stop, so its deletion is finished at once, as a kubelet
does once they are gone: a delete with grace period 0 and the pod's uid as precondition
(kubelet/status/manager.py)."""

from __future__ import annotations

import asyncio
import logging

from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client, is_not_found

log = logging.getLogger(__name__)

IN_FLIGHT = 16


class HollowKubelet:
    def __init__(self, client: Client, namespace: str, node_prefix: str) -> None:
        """Finishes the graceful deletions of the pods of `namespace` on the nodes whose names
        start with `node_prefix` (the run's hollow nodes)."""
        self.client = client
        self.namespace = namespace
        self.node_prefix = node_prefix
        self.finished = 0
        self.errors = 0
        self._slots = asyncio.Semaphore(IN_FLIGHT)
        self._seen: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._watcher: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _watch(self) -> None:
        """Lists and watches, again after any failure (an overloaded apiserver refuses a watch
        as it refuses other calls)."""
        while True:
            try:
                await self._list_and_watch()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - retried: the deletions must be finished
                log.info("hollow kubelet's pod watch ended (%s); watching again", e)
                await asyncio.sleep(0.5)

    async def _list_and_watch(self) -> None:
        listed = await self.client.pods.list(self.namespace)
        for pod in listed.items:
            self._consider(pod)
        stream = self.client.pods.watch(
            self.namespace, resource_version=listed.metadata.resource_version
        )
        try:
            async for event in stream:
                if event.type in ("ADDED", "MODIFIED"):
                    self._consider(event.object)
        finally:
            stream.cancel()

    def _consider(self, pod: core_pb2.Pod) -> None:
        meta = pod.metadata
        if (
            not meta.deletion_timestamp
            or not pod.spec.node_name.startswith(self.node_prefix)
            or meta.uid in self._seen
        ):
            return
        self._seen.add(meta.uid)
        task = asyncio.get_running_loop().create_task(self._finish(pod))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(self, pod: core_pb2.Pod) -> None:
        meta = pod.metadata
        async with self._slots:
            try:
                await self.client.pods.delete(
                    meta.name, meta.namespace, grace_period_seconds=0, uid=meta.uid
                )
                self.finished += 1
            except Exception as e:  # noqa: BLE001 - counted; the pod may be gone already
                if not is_not_found(e):
                    self.errors += 1
                    log.warning("finishing the deletion of %s: %s", meta.name, e)
