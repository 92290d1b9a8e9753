"""Ephemeral containers on a running pod (kuberuntime_manager.go's EphemeralContainersToStart;
they start as every container does, start_container.py): each one added to
spec.ephemeralContainers is started once in the pod's sandbox (its network, IPC and, with
targetContainerName, the target's process namespace) with the volumes it names, and never
restarted: whatever happens to it stays reported in status.ephemeralContainerStatuses
(kubelet/status/generate.py). They carry the same labels as every container, so a restarted
kubelet finds them and does not start them again."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kubelet.container.env import PodContext
from kubelet.pod.start_container import CONFIG_RETRY_SECONDS, ContainerStarter, StartSpec
from kubelet.runtime.types import ContainerState, RuntimePod
from kubelet.status.generate import ever_ran
from kubelet.status.phase import TERMINAL_PHASES
from kubelet.volume.pod_volumes import PodVolumes, VolumeError
from podplane.api.core.v1 import core_pb2

log = logging.getLogger(__name__)
# Why an ephemeral container is not running yet: (reason, message) by (pod uid, container).
Reasons = dict[tuple[str, str], tuple[str, str]]


def to_start(pod: core_pb2.Pod, rp: RuntimePod) -> list[core_pb2.EphemeralContainer]:
    """The ephemeral containers that never ran, if the pod runs (a new sandbox, a finished or
    deleted pod starts none)."""
    sandbox = rp.latest_sandbox()
    if (
        pod.status.phase in TERMINAL_PHASES
        or pod.metadata.deletion_timestamp
        or sandbox is None
        or not sandbox.ready
    ):
        return []
    reported = {s.name: s for s in pod.status.ephemeral_container_statuses}
    wanted = []
    for ec in pod.spec.ephemeral_containers:
        instances = rp.instances(ec.name)
        never_started = all(c.state == ContainerState.CREATED for c in instances)
        if never_started and not ever_ran(reported.get(ec.name)):
            wanted.append(ec)
    return wanted


class EphemeralContainerStarter:
    def __init__(self, volumes: PodVolumes, starter: ContainerStarter, reasons: Reasons) -> None:
        self.volumes = volumes
        self.starter = starter
        self.reasons = reasons

    async def start_new(
        self, pod: core_pb2.Pod, rp: RuntimePod, ctx: PodContext, requeue: Callable[[float], None]
    ) -> bool:
        """Starts the ephemeral containers that never ran; whether it started (or tried) any."""
        wanted = to_start(pod, rp)
        sandbox = rp.latest_sandbox()
        if not wanted or sandbox is None:
            return False
        try:
            paths = await self.volumes.setup(pod)
        except VolumeError as e:
            for ec in wanted:
                self.reasons[(pod.metadata.uid, ec.name)] = ("CreateContainerConfigError", str(e))
            requeue(CONFIG_RETRY_SECONDS)
            return True
        for ec in wanted:
            await self._start(pod, ec, rp, sandbox.id, paths, ctx, requeue)
        return True

    async def _start(
        self,
        pod: core_pb2.Pod,
        ec: core_pb2.EphemeralContainer,
        rp: RuntimePod,
        sandbox_id: str,
        paths: dict[str, str],
        ctx: PodContext,
        requeue: Callable[[float], None],
    ) -> None:
        key = (pod.metadata.uid, ec.name)
        # Its instances here were created, never started (the kubelet stopped in between).
        leftovers = [c.id for c in rp.instances(ec.name)]
        spec = StartSpec.for_ephemeral(ec, remove_first=leftovers)
        failure = await self.starter.start(pod, spec, rp, sandbox_id, paths, ctx)
        if failure is not None and not failure.created:
            self.reasons[key] = (failure.reason, failure.message)
            requeue(failure.retry_after)
            return
        # Started, or it failed to: either way reported by its own state from now on, and never
        # tried again.
        self.reasons.pop(key, None)
        if failure is None:
            log.info(
                "pod %s/%s: started ephemeral container %s%s",
                pod.metadata.namespace,
                pod.metadata.name,
                ec.name,
                f" (target {ec.target_container_name})" if ec.target_container_name else "",
            )
