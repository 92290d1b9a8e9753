"""The pod sandbox: a pause container that holds the pod's network (and IPC) namespace, so all of a
pod's containers share one IP, localhost and hostname. Its IP, from the node's bridge on the pod
CIDR, is the pod IP."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable

from kubelet.admission.sysctls import pod_sysctls
from kubelet.container.config import grace_period
from kubelet.network.hosts import HostnameError, kernel_hostname
from kubelet.runtime.types import (
    ContainerRuntime,
    ContainerRuntimeError,
    DNSConfig,
    PodRef,
    RuntimePod,
    SandboxConfig,
)
from kubelet.runtimeclass.manager import RuntimeClassManager
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import qos
from podplane.client.events import WARNING

log = logging.getLogger(__name__)
# (pod, event type, reason, message): an event about the pod.
Event = Callable[[core_pb2.Pod, str, str, str], None]


class SandboxStarter:
    """Runs a pod's sandbox (kuberuntime's createPodSandbox): its config (the hostname, the
    FQDN with setHostnameAsFQDN; the pod's sysctls; its RuntimeClass's handler; its user
    namespace), the pause image, the runtime's sandbox. Whatever fails is the pod's
    FailedCreatePodSandBox event, "Failed to create pod sandbox: ...", and the error."""

    def __init__(
        self,
        runtime: ContainerRuntime,
        runtime_classes: RuntimeClassManager,
        pause_image: str,
        cluster_domain: str = "",
        event: Event | None = None,
    ) -> None:
        self.runtime = runtime
        self.runtime_classes = runtime_classes
        self.pause_image = pause_image
        self.cluster_domain = cluster_domain
        self.event = event

    async def start(self, pod: core_pb2.Pod, attempt: int, dns: DNSConfig | None) -> str:
        try:
            config = await self._config(pod, attempt, dns)
            await self._ensure_pause_image()
            sandbox_id = await self.runtime.run_pod_sandbox(config)
        except ContainerRuntimeError as e:
            if self.event is not None:
                self.event(
                    pod, WARNING, "FailedCreatePodSandBox", f"Failed to create pod sandbox: {e}"
                )
            raise
        log.info(
            "pod %s/%s: sandbox %s started (attempt %d)",
            pod.metadata.namespace,
            pod.metadata.name,
            sandbox_id[:12],
            attempt,
        )
        return sandbox_id

    async def _config(
        self, pod: core_pb2.Pod, attempt: int, dns: DNSConfig | None
    ) -> SandboxConfig:
        try:
            hostname = kernel_hostname(pod, self.cluster_domain)
        except HostnameError as e:
            raise ContainerRuntimeError(str(e)) from e
        handler = await self.runtime_classes.handler(pod)
        if pod.spec.HasField("host_users") and not pod.spec.host_users:
            # A pod of its own user namespace: only where the handler can make one (Docker
            # cannot, per container).
            if not (await self.runtime_classes.features(handler)).user_namespaces:
                raise ContainerRuntimeError(
                    f'RuntimeClass handler "{handler}" does not support user namespaces'
                )
        return SandboxConfig(
            pod=PodRef(
                uid=pod.metadata.uid, name=pod.metadata.name, namespace=pod.metadata.namespace
            ),
            attempt=attempt,
            hostname=hostname,
            image=self.pause_image,
            host_network=pod.spec.host_network,
            termination_grace_seconds=grace_period(pod),
            dns=dns,
            sysctls=pod_sysctls(pod),
            runtime_handler=handler,
            privileged=has_privileged_container(pod),
            share_process_namespace=pod.spec.share_process_namespace,
            cgroup_parent=qos.pod_cgroup(pod),
        )

    async def _ensure_pause_image(self) -> None:
        if await self.runtime.inspect_image(self.pause_image) is not None:
            return
        try:
            await self.runtime.pull_image(self.pause_image)
        except ContainerRuntimeError as e:
            raise ContainerRuntimeError(
                f"the pod sandbox image {self.pause_image} is not on this node and cannot be "
                f"pulled: {e}"
            ) from e


def has_privileged_container(pod: core_pb2.Pod) -> bool:
    """Whether any container of the pod, init and ephemeral ones included, is privileged
    (kubecontainer.HasPrivilegedContainer)."""
    spec = pod.spec
    containers = [*spec.init_containers, *spec.containers]
    return any(c.security_context.privileged for c in containers) or any(
        c.security_context.privileged for c in spec.ephemeral_containers
    )


def pod_ip(pod: core_pb2.Pod, rp: RuntimePod, host_ip: str) -> str:
    """Where hooks and probes reach the pod: the node's IP on the host's network, else its newest
    sandbox's (the one reported while none runs)."""
    if pod.spec.host_network:
        return host_ip
    sandbox = rp.latest_sandbox()
    return sandbox.ip if sandbox is not None and sandbox.ip else pod.status.pod_ip


async def remove_old_sandboxes(runtime: ContainerRuntime, rp: RuntimePod) -> None:
    """Stopped sandboxes of earlier attempts go once no container of theirs is left; the newest
    stays (it holds the pod IP). As the kubelet's sandbox GC: a CRI runtime removes a sandbox's
    containers with it, and the dead instance a container's lastState and `logs --previous`
    read may still be in an older sandbox (after a node restart, all of them are)."""
    latest = rp.latest_sandbox()
    in_use = {c.sandbox_id for c in rp.containers}
    for sandbox in rp.sandboxes:
        if sandbox is not latest and not sandbox.ready and sandbox.id not in in_use:
            await runtime.remove_pod_sandbox(sandbox.id)


class PodCIDRCheck:
    """Warns (once) when the engine hands out IPs outside the node's pod CIDR: its bridge is not
    set up for this node, so other nodes will not route to these pods."""

    def __init__(self, pod_cidr: str) -> None:
        self.pod_cidr = pod_cidr
        self._warned = False

    def check(self, ip: str) -> None:
        if self._warned or not self.pod_cidr or not ip:
            return
        if ipaddress.ip_address(ip) not in ipaddress.ip_network(self.pod_cidr):
            self._warned = True
            log.warning(
                "pod IP %s is outside this node's pod CIDR %s: the container engine's "
                "bridge (dockerd --bip) does not match --pod-cidr",
                ip,
                self.pod_cidr,
            )
