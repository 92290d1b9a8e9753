"""Writes pod statuses to the apiserver, only when they changed (pkg/kubelet/status). The kubelet
owns the status of the pods bound to it, so writes are unconditional (no resourceVersion).
A static pod's status goes onto its mirror pod, the API's copy of it, when there is one."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kubelet.staticpod.manifests import is_static_pod
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import ResourceClient, is_conflict, is_not_found

log = logging.getLogger(__name__)


def _revision(resource_version: str) -> int:
    try:
        return int(resource_version)
    except ValueError:
        return 0


# The mirror pod of a static pod, from the informer's cache, or None.
MirrorLookup = Callable[[core_pb2.Pod], core_pb2.Pod | None]


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
        update.metadata.resource_version = ""
        try:
            written = await self._pods.update_status(update)
        except Exception as e:
            if is_not_found(e):
                log.info(
                    "pod %s/%s is gone; status not written",
                    pod.metadata.namespace,
                    pod.metadata.name,
                )
                return False
            raise
        self._sent[pod.metadata.uid] = (status, _revision(written.metadata.resource_version))
        log.info("pod %s/%s: phase %s", pod.metadata.namespace, pod.metadata.name, status.phase)
        return True

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
