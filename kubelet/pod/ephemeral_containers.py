"""Ephemeral containers on a running pod (kuberuntime_manager.go's EphemeralContainersToStart and
startContainer for them): each one added to spec.ephemeralContainers is started once in the pod's
sandbox (its network, IPC and, with targetContainerName, the target's process namespace) with the
volumes it names, and never restarted: whatever happens to it stays reported in
status.ephemeralContainerStatuses (kubelet/status/generate.py). They carry the same labels as every
container, so a restarted kubelet finds them and does not start them again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from kubelet.container.config import build_container_config, with_pod_objects
from kubelet.container.env import ContainerConfigError, PodContext
from kubelet.container.images import ImageError, ImagePuller
from kubelet.container.service_env import ServiceLister
from kubelet.runtime.types import (
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerState,
    RuntimePod,
)
from kubelet.status.generate import ever_ran
from kubelet.status.phase import TERMINAL_PHASES
from kubelet.volume.pod_volumes import PodVolumes, VolumeError
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.ephemeral_containers import as_container

log = logging.getLogger(__name__)
# Why an ephemeral container is not running yet: (reason, message) by (pod uid, container).
Reasons = dict[tuple[str, str], tuple[str, str]]
# (event type, reason, message) about the pod.
Event = Callable[[core_pb2.Pod, str, str, str], None]
RETRY_SECONDS = 10.0


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
    def __init__(
        self,
        runtime: ContainerRuntime,
        volumes: PodVolumes,
        images: ImagePuller,
        reasons: Reasons,
        event: Event,
        services: ServiceLister | None = None,
    ) -> None:
        self.runtime = runtime
        self.volumes = volumes
        self.images = images
        self.reasons = reasons
        self.event = event
        self.services = services

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
            requeue(RETRY_SECONDS)
            return True
        for ec in wanted:
            await self._start(pod, ec, rp, sandbox.id, paths, ctx, requeue)
        return True

    def _target_id(
        self, pod: core_pb2.Pod, ec: core_pb2.EphemeralContainer, rp: RuntimePod, sandbox_id: str
    ) -> str:
        if not ec.target_container_name:
            return ""
        target = rp.latest_in(ec.target_container_name, sandbox_id)
        if target is None or target.state != ContainerState.RUNNING:
            raise ContainerConfigError(
                f'target container "{ec.target_container_name}" is not '
                f"running, so its process namespace cannot be shared"
            )
        return target.id

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
        uid, name = pod.metadata.uid, ec.name
        container = as_container(ec)
        # The pod as env and config references see it: with this container among its own.
        view = core_pb2.Pod()
        view.CopyFrom(pod)
        view.spec.containers.append(container)
        try:
            _, pulled = await self.images.ensure(
                uid,
                container,
                on_pull=lambda: self.event(
                    pod, "Normal", "Pulling", f'Pulling image "{container.image}"'
                ),
            )
            self.event(
                pod,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{container.image}"'
                if pulled
                else f'Container image "{container.image}" already present on machine',
            )
            mounts = PodVolumes.mounts(container, paths)
            ctx = await with_pod_objects(ctx, self.volumes.objects, view, self.services)
            config = build_container_config(view, container, 0, mounts, ctx)
            config = replace(config, pid_namespace_of=self._target_id(pod, ec, rp, sandbox_id))
        except ImageError as e:
            self.reasons[(uid, name)] = (e.reason, e.message)
            requeue(e.retry_after or RETRY_SECONDS)
            return
        except (ContainerConfigError, VolumeError) as e:
            self.reasons[(uid, name)] = ("CreateContainerConfigError", str(e))
            requeue(RETRY_SECONDS)
            return
        for leftover in rp.instances(name):  # created, never started (the kubelet stopped)
            await self.runtime.remove_container(leftover.id)
        try:
            container_id = await self.runtime.create_container(sandbox_id, config)
        except ContainerRuntimeError as e:
            self.reasons[(uid, name)] = ("CreateContainerError", str(e))
            self.event(pod, "Warning", "Failed", f"Error: {e}")
            requeue(RETRY_SECONDS)
            return
        self.event(pod, "Normal", "Created", f"Created container {name}")
        self.reasons.pop((uid, name), None)
        try:
            await self.runtime.start_container(container_id)
        except ContainerRuntimeError as e:
            # Reported as its Terminated state (StartError); never tried again.
            self.event(pod, "Warning", "Failed", f"Error: {e}")
            return
        self.event(pod, "Normal", "Started", f"Started container {name}")
        log.info(
            "pod %s/%s: started ephemeral container %s%s",
            pod.metadata.namespace,
            pod.metadata.name,
            name,
            f" (target {ec.target_container_name})" if ec.target_container_name else "",
        )
