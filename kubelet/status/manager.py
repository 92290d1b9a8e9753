"""Writes pod statuses to the apiserver, only when they changed (pkg/kubelet/status). A static
pod's status goes onto its mirror pod, the API's copy of it, when there is one.

The kubelet owns the status of the pods bound to it, but not every condition in it: others set
PodScheduled, DisruptionTarget and the conditions of readiness gates. A write names the version
the status was computed from; when someone wrote the pod since (a conflict), the manager reads
it again, keeps the others' conditions as they are now, evaluates Ready against them again
(conditions.with_foreign_conditions, the kubelet's mergePodStatus) and writes that."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kubelet.staticpod.manifests import is_static_pod
from kubelet.status.conditions import with_foreign_conditions
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from podplane.client.clientset import ResourceClient, is_conflict, is_not_found

log = logging.getLogger(__name__)


def _revision(resource_version: str) -> int:
    try:
        return int(resource_version)
    except ValueError:
        return 0


# The mirror pod of a static pod, from the informer's cache, or None.
MirrorLookup = Callable[[core_pb2.Pod], core_pb2.Pod | None]
# How often a write that conflicts is merged and tried again before the next sync takes over.
WRITE_ATTEMPTS = 3


class StatusManager:
    def __init__(
        self, pods: ResourceClient[core_pb2.Pod], mirror_of: MirrorLookup = lambda pod: None
    ) -> None:
        self._pods = pods
        self.mirror_of = mirror_of
        # The last status written per pod uid and the resourceVersion it produced.
        self._sent: dict[str, tuple[core_pb2.PodStatus, int]] = {}
        # The last status of each static pod (by its uid): the pod's own object never has one.
        self._static: dict[str, core_pb2.PodStatus] = {}

    def static_status(self, uid: str) -> core_pb2.PodStatus | None:
        return self._static.get(uid)

    def with_latest_status(self, pod: core_pb2.Pod) -> core_pb2.Pod:
        """`pod` with the last status this kubelet wrote for it when the cached copy predates that
        write: the status the next one is computed from (Kubernetes' status manager, not the
        informer, is the kubelet's source of a pod's old status). Computed from a stale copy, a
        pod that finished and lost its sandbox was written back without its IP."""
        sent = self._sent.get(pod.metadata.uid)
        if (
            sent is None
            or is_static_pod(pod)
            or _revision(pod.metadata.resource_version) >= sent[1]
        ):
            return pod
        latest = core_pb2.Pod()
        latest.CopyFrom(pod)
        latest.status.CopyFrom(sent[0])
        return latest

    def needs_update(self, pod: core_pb2.Pod, status: core_pb2.PodStatus) -> bool:
        if status == pod.status:
            return False
        sent = self._sent.get(pod.metadata.uid)
        # The cached pod may predate our own last write; then what we sent is what counts.
        return not (
            sent is not None
            and sent[0] == status
            and _revision(pod.metadata.resource_version) < sent[1]
        )

    async def set_status(self, pod: core_pb2.Pod, status: core_pb2.PodStatus) -> bool:
        """Writes the status if it differs from the pod's; True if it was written."""
        if is_static_pod(pod):
            self._static[pod.metadata.uid] = status
            mirror = self.mirror_of(pod)
            if mirror is None:
                return False  # written once the mirror pod exists (it syncs the pod again)
            pod = mirror
        if not self.needs_update(pod, status):
            return False
        update = core_pb2.Pod()
        update.CopyFrom(pod)
        update.status.CopyFrom(status)
        update.metadata.resource_version = self._base_version(pod)
        written: core_pb2.Pod | None = None
        for attempt in range(WRITE_ATTEMPTS):
            try:
                written = await self._pods.update_status(update)
                break
            except Exception as e:
                if is_not_found(e):
                    log.info(
                        "pod %s/%s is gone; status not written",
                        pod.metadata.namespace,
                        pod.metadata.name,
                    )
                    return False
                if not is_conflict(e) or attempt + 1 == WRITE_ATTEMPTS:
                    raise
            latest = await self._latest(pod)
            if latest is None:
                return False
            status = with_foreign_conditions(
                status, latest.spec, latest.status.conditions, timeutil.now()
            )
            update.CopyFrom(latest)
            update.status.CopyFrom(status)
        assert written is not None
        self._sent[pod.metadata.uid] = (status, _revision(written.metadata.resource_version))
        log.info("pod %s/%s: phase %s", pod.metadata.namespace, pod.metadata.name, status.phase)
        return True

    def _base_version(self, pod: core_pb2.Pod) -> str:
        """The version the status was computed from: the cached pod's, or this kubelet's own
        last write when the cache has not caught up with it (with_latest_status)."""
        sent = self._sent.get(pod.metadata.uid)
        version = _revision(pod.metadata.resource_version)
        if sent is not None and sent[1] > version:
            return str(sent[1])
        return pod.metadata.resource_version

    async def _latest(self, pod: core_pb2.Pod) -> core_pb2.Pod | None:
        """The pod as the API has it now; None when it is gone or is another pod of its name."""
        try:
            latest = await self._pods.get(pod.metadata.name, pod.metadata.namespace)
        except Exception as e:
            if is_not_found(e):
                return None
            raise
        return latest if latest.metadata.uid == pod.metadata.uid else None

    async def delete_terminated(self, pod: core_pb2.Pod) -> None:
        """Removes a pod whose graceful deletion the kubelet has carried out (nothing of it runs
        any more): a delete with grace period 0, for this very pod (its uid), as the kubelet's
        status manager does once the pod can be deleted."""
        try:
            await self._pods.delete(
                pod.metadata.name,
                pod.metadata.namespace,
                grace_period_seconds=0,
                uid=pod.metadata.uid,
            )
        except Exception as e:
            if is_not_found(e) or is_conflict(e):
                return  # already gone, or a newer pod of that name
            raise
        log.info("pod %s/%s: terminated and deleted", pod.metadata.namespace, pod.metadata.name)

    def forget(self, uid: str) -> None:
        self._sent.pop(uid, None)
        self._static.pop(uid, None)
