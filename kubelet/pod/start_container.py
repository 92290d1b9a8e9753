"""Starting one container in a pod's sandbox (kuberuntime_container.go startContainer): the same
steps for app, init, sidecar and ephemeral containers. The image (Pulling, Pulled, or the pull
error's event), the config, create (Created, or Failed), start (Started, or Failed), the postStart
hook (FailedPostStartHook, and the container goes). A step that fails returns why, as the waiting
reason Kubernetes reports; what to do about it is the caller's (an app container is tried again,
an ephemeral one never)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from kubelet.container.config import build_container_config, with_pod_objects
from kubelet.container.env import ContainerConfigError, PodContext, container_env
from kubelet.container.images import ImageError, ImagePuller
from kubelet.container.lifecycle_hooks import HookError, run_hook
from kubelet.container.security_profiles import NodeSecurity
from kubelet.container.service_env import ServiceLister
from kubelet.network.hosts import ETC_HOSTS, mounts_etc_hosts, write_hosts_file
from kubelet.pod.termination import container_grace_period, kill_container
from kubelet.runtime.types import (
    ContainerConfig,
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerState,
    Mount,
    RuntimePod,
)
from kubelet.runtimeclass.manager import RuntimeClassManager
from kubelet.volume.container_mounts import wants_recursive_read_only
from kubelet.volume.pod_volumes import PodVolumes, VolumeError
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.ephemeral_containers import as_container
from podplane.client.events import NORMAL, WARNING

log = logging.getLogger(__name__)
# How soon to look again at a container that could not be configured or created.
CONFIG_RETRY_SECONDS = 10.0
# How soon to start again a container whose start or postStart hook failed.
RUN_RETRY_SECONDS = 1.0
# (pod, event type, reason, message): an event about the pod.
Event = Callable[[core_pb2.Pod, str, str, str], None]
# The event reasons of the image puller's waiting reasons (pkg/kubelet/images): a back-off is
# BackOff, everything else Failed.
_IMAGE_EVENT_REASONS = {"ImagePullBackOff": "BackOff", "ErrImageNeverPull": "ErrImageNeverPull"}


@dataclass(frozen=True)
class StartSpec:
    """One container to start (kuberuntime's startSpec): an app, init or sidecar container, or an
    ephemeral one, which joins its target's process namespace."""

    container: core_pb2.Container
    ephemeral: core_pb2.EphemeralContainer | None = None
    restart_count: int = 0
    # Instances to remove once the new one's config is ready: older dead ones (the newest stays,
    # for `logs --previous`), or one created but never started.
    remove_first: Sequence[str] = ()

    @classmethod
    def for_ephemeral(
        cls, ec: core_pb2.EphemeralContainer, remove_first: Sequence[str] = ()
    ) -> StartSpec:
        container = as_container(ec)
        # `kubectl debug -i` asks for stdin, not stdinOnce, so on Kubernetes the end of its
        # stdin never reaches the shell it started: piped commands leave it waiting, detached,
        # for good. Started only once and never restarted, an ephemeral container's stdin is its
        # first attach's here (as `podctl debug -i` asks): when that stdin ends, the process
        # reads end-of-file and ends, and kubectl with it. A terminal's stays open (-it).
        if container.stdin and not container.tty:
            container.stdin_once = True
        return cls(container, ephemeral=ec, remove_first=remove_first)


@dataclass(frozen=True)
class ContainerNode:
    """What every container's config takes from the node: the security profiles' settings, the
    cluster domain (the pod's FQDN in its /etc/hosts), and the pods' runtime handlers."""

    security: NodeSecurity = field(default_factory=NodeSecurity)
    cluster_domain: str = ""
    runtime_classes: RuntimeClassManager | None = None


@dataclass(frozen=True)
class StartFailure:
    """Why a container did not start: its waiting reason and message, when to try again, and
    whether an instance was created (whose own state then says what happened to it)."""

    reason: str
    message: str
    retry_after: float
    created: bool = False


class ContainerStarter:
    def __init__(
        self,
        runtime: ContainerRuntime,
        volumes: PodVolumes,
        images: ImagePuller,
        event: Event,
        services: ServiceLister | None = None,
        node: ContainerNode | None = None,
    ) -> None:
        self.runtime = runtime
        self.volumes = volumes
        self.images = images
        self.event = event
        self.services = services
        self.node = node or ContainerNode()

    async def start(
        self,
        pod: core_pb2.Pod,
        spec: StartSpec,
        rp: RuntimePod,
        sandbox_id: str,
        paths: dict[str, str],
        ctx: PodContext,
    ) -> StartFailure | None:
        """Starts the container in the sandbox; None when it runs (and its postStart hook
        succeeded), else why not."""
        container, name = spec.container, spec.container.name
        try:
            config = await self._config(pod, spec, rp, sandbox_id, paths, ctx)
        except ImageError as e:
            self.event(pod, WARNING, _IMAGE_EVENT_REASONS.get(e.reason, "Failed"), e.message)
            return StartFailure(e.reason, e.message, e.retry_after or CONFIG_RETRY_SECONDS)
        except (ContainerConfigError, VolumeError) as e:
            return StartFailure("CreateContainerConfigError", str(e), CONFIG_RETRY_SECONDS)
        for old in spec.remove_first:
            await self.runtime.remove_container(old)
        try:
            container_id = await self.runtime.create_container(sandbox_id, config)
        except ContainerRuntimeError as e:
            self.event(pod, WARNING, "Failed", f"Error: {e}")
            return StartFailure("CreateContainerError", str(e), CONFIG_RETRY_SECONDS)
        self.event(pod, NORMAL, "Created", f"Created container {name}")
        try:
            await self.runtime.start_container(container_id)
        except ContainerRuntimeError as e:
            self.event(pod, WARNING, "Failed", f"Error: {e}")
            return StartFailure("RunContainerError", str(e), RUN_RETRY_SECONDS, created=True)
        self.event(pod, NORMAL, "Started", f"Started container {name}")
        if not container.lifecycle.HasField("post_start"):
            return None
        try:
            await run_hook(
                self.runtime,
                pod,
                container,
                container_id,
                container.lifecycle.post_start,
                ctx.pod_ip,
            )
        except HookError as e:
            # The container goes, and waits as PostStartHookError until it is started again.
            log.info(
                "pod %s/%s: postStart hook of %s failed: %s",
                pod.metadata.namespace,
                pod.metadata.name,
                name,
                e,
            )
            self.event(pod, WARNING, "FailedPostStartHook", str(e))
            await kill_container(
                self.runtime,
                container_id,
                name,
                container_grace_period(pod, container),
                pod,
                ctx.pod_ip,
                message="FailedPostStartHook",
                event=lambda type_, reason, message: self.event(pod, type_, reason, message),
            )
            return StartFailure("PostStartHookError", str(e), RUN_RETRY_SECONDS, created=True)
        return None

    async def _config(
        self,
        pod: core_pb2.Pod,
        spec: StartSpec,
        rp: RuntimePod,
        sandbox_id: str,
        paths: dict[str, str],
        ctx: PodContext,
    ) -> ContainerConfig:
        """The image, present, and the runtime config of the container (raises ImageError,
        ContainerConfigError or VolumeError)."""
        container = spec.container
        _, pulled = await self.images.ensure(
            pod.metadata.uid,
            container,
            on_pull=lambda: self.event(
                pod, NORMAL, "Pulling", f'Pulling image "{container.image}"'
            ),
        )
        self.event(
            pod,
            NORMAL,
            "Pulled",
            f'Successfully pulled image "{container.image}"'
            if pulled
            else f'Container image "{container.image}" already present on machine',
        )
        view = pod
        if spec.ephemeral is not None:
            # The pod as env and config references see it: with this container among its own.
            view = core_pb2.Pod()
            view.CopyFrom(pod)
            view.spec.containers.append(container)
        ctx = await with_pod_objects(ctx, self.volumes.objects, view, self.services)
        env = container_env(view, container, ctx)
        rro = await self._supports_rro(pod, container)
        mounts = PodVolumes.mounts(container, paths, env, rro) + await self._hosts(
            pod, container, ctx
        )
        config = build_container_config(
            view, container, spec.restart_count, mounts, ctx, env=env, profiles=self.node.security
        )
        if spec.ephemeral is not None and spec.ephemeral.target_container_name:
            target = _target_id(spec.ephemeral.target_container_name, rp, sandbox_id)
            config = replace(config, pid_namespace_of=target)
        return config

    async def _supports_rro(self, pod: core_pb2.Pod, container: core_pb2.Container) -> bool:
        """Whether the pod's runtime handler makes recursively read-only mounts (asked only of
        a container that wants them)."""
        classes = self.node.runtime_classes
        if classes is None or not wants_recursive_read_only(container):
            return False
        try:
            handler = await classes.handler(pod)
        except ContainerRuntimeError as e:
            raise ContainerConfigError(str(e)) from e
        return (await classes.features(handler)).recursive_read_only_mounts

    async def _hosts(
        self, pod: core_pb2.Pod, container: core_pb2.Container, ctx: PodContext
    ) -> list[Mount]:
        """The pod's /etc/hosts, written again for each container that starts (as the kubelet's
        makeHostsMount), unless the container mounts a volume there or the pod has no IP yet."""
        if not ctx.pod_ip or mounts_etc_hosts(container):
            return []
        pod_dir = self.volumes.pod_dir(pod.metadata.uid)
        try:
            path = await asyncio.to_thread(
                write_hosts_file, pod_dir, pod, [ctx.pod_ip], self.node.cluster_domain
            )
        except OSError as e:
            raise ContainerConfigError(f"writing the pod's hosts file: {e}") from e
        return [Mount(host_path=path, container_path=ETC_HOSTS)]


def _target_id(target_name: str, rp: RuntimePod, sandbox_id: str) -> str:
    """The running container whose process namespace an ephemeral container joins."""
    target = rp.latest_in(target_name, sandbox_id)
    if target is None or target.state != ContainerState.RUNNING:
        raise ContainerConfigError(
            f'target container "{target_name}" is not running, so its process namespace '
            f"cannot be shared"
        )
    return target.id
