"""Mirror pods (kubernetes pkg/kubelet/pod/mirror_client.go): for each static pod the kubelet keeps
a copy in the API, so users and controllers see it. The copy is owned by the Node, marked with the
static pod's hash, and only mirrors: deleting it does not stop the static pod (the kubelet makes
it again), and a mirror whose static pod is gone or changed is deleted by the kubelet."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from kubelet.staticpod.manifests import CONFIG_HASH_ANNOTATION
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import ResourceClient, is_already_exists, is_conflict, is_not_found
from podplane.client.workqueue import WorkQueue

log = logging.getLogger(__name__)
CONFIG_MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
RESYNC_PERIOD = 10.0

PodGetter = Callable[[str], core_pb2.Pod | None]


def is_mirror_pod(pod: core_pb2.Pod) -> bool:
    return CONFIG_MIRROR_ANNOTATION in pod.metadata.annotations


def build_mirror_pod(static: core_pb2.Pod, node_name: str, node_uid: str) -> core_pb2.Pod:
    mirror = core_pb2.Pod()
    mirror.CopyFrom(static)
    mirror.ClearField("status")
    meta = mirror.metadata
    meta.uid = ""
    meta.resource_version = ""
    meta.annotations[CONFIG_MIRROR_ANNOTATION] = static.metadata.annotations.get(
        CONFIG_HASH_ANNOTATION, static.metadata.uid
    )
    del meta.owner_references[:]
    meta.owner_references.append(
        meta_pb2.OwnerReference(
            api_version="v1", kind="Node", name=node_name, uid=node_uid, controller=True
        )
    )
    return mirror


def mirror_is_current(static: core_pb2.Pod, mirror: core_pb2.Pod, node_uid: str) -> bool:
    """The mirror stands for this very static pod (same hash) and is not being deleted."""
    if mirror.metadata.deletion_timestamp:
        return False
    if mirror.metadata.annotations.get(CONFIG_MIRROR_ANNOTATION) != static.metadata.annotations.get(
        CONFIG_HASH_ANNOTATION, static.metadata.uid
    ):
        return False
    owners = [o for o in mirror.metadata.owner_references if o.kind == "Node"]
    return not node_uid or any(o.uid == node_uid for o in owners)


class MirrorPods:
    """Converges each static pod key: a current mirror exists while the static pod does, and no
    mirror stays once it is gone. Keys come from the static pod source, from the pod informer
    (someone deleted a mirror) and from a periodic resync."""

    def __init__(
        self,
        pods: ResourceClient[core_pb2.Pod],
        node_name: str,
        node_uid: Callable[[], str],
        static_pod: PodGetter,
        api_pod: PodGetter,
        static_keys: Callable[[], list[str]],
        resync_period: float = RESYNC_PERIOD,
    ) -> None:
        self._pods = pods
        self.node_name = node_name
        self.node_uid = node_uid
        self.static_pod = static_pod
        self.api_pod = api_pod
        self.static_keys = static_keys
        self.resync_period = resync_period
        self.queue: WorkQueue[str] = WorkQueue(base_delay=0.5, max_delay=30.0, name="mirror_pods")

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    async def reconcile(self, key: str) -> None:
        static = self.static_pod(key)
        mirror = self.api_pod(key)
        if mirror is not None and not is_mirror_pod(mirror):
            if static is not None:
                log.warning(
                    "static pod %s: a pod of that name that is no mirror exists in the "
                    "API; no mirror pod made",
                    key,
                )
            return
        node_uid = self.node_uid()
        if mirror is not None and (
            static is None or not mirror_is_current(static, mirror, node_uid)
        ):
            if not mirror.metadata.deletion_timestamp or static is None:
                await self._delete(mirror)
            mirror = None
        if static is None or mirror is not None:
            return
        try:
            await self._pods.create(build_mirror_pod(static, self.node_name, node_uid))
            log.info("created mirror pod %s", key)
        except Exception as e:
            if not is_already_exists(e):
                raise
            # The old mirror is still there (being deleted); look again soon.
            self.queue.add_after(key, 1.0)

    async def _delete(self, mirror: core_pb2.Pod) -> None:
        try:
            await self._pods.delete(
                mirror.metadata.name,
                mirror.metadata.namespace,
                grace_period_seconds=0,
                uid=mirror.metadata.uid,
            )
            log.info("deleted mirror pod %s/%s", mirror.metadata.namespace, mirror.metadata.name)
        except Exception as e:
            if not (is_not_found(e) or is_conflict(e)):
                raise

    async def _worker(self) -> None:
        await self.queue.run_worker(self._process)

    async def _process(self, key: str) -> None:
        try:
            await self.reconcile(key)
            self.queue.forget(key)
        except Exception as e:  # noqa: BLE001 - retried with back-off
            log.warning("mirror pod %s: %s; retrying", key, e)
            self.queue.add_rate_limited(key)

    async def _resync(self) -> None:
        while True:
            for key in self.static_keys():
                self.queue.add(key)
            await asyncio.sleep(self.resync_period)

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self._worker(), name="mirror-pods"),
            asyncio.create_task(self._resync(), name="mirror-pods-resync"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await self.queue.shutdown()
