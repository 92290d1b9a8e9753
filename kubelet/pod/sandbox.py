"""The pod sandbox: a pause container that holds the pod's network (and IPC) namespace, so all of a
pod's containers share one IP, localhost and hostname. Its IP, from the node's bridge on the pod
CIDR, is the pod IP."""

from __future__ import annotations

import ipaddress
import logging

from kubelet.container.config import grace_period
from kubelet.runtime.types import (
    ContainerRuntime,
    ContainerRuntimeError,
    DNSConfig,
    PodRef,
    RuntimePod,
    SandboxConfig,
)
from podplane.api.core.v1 import core_pb2

log = logging.getLogger(__name__)
MAX_HOSTNAME = 63


def pod_hostname(pod: core_pb2.Pod) -> str:
    """spec.hostname, else the pod name, cut to a valid hostname (63 characters)."""
    name = pod.spec.hostname or pod.metadata.name
    return name[:MAX_HOSTNAME].rstrip("-.") or "pod"


async def run_sandbox(
    runtime: ContainerRuntime,
    pod: core_pb2.Pod,
    attempt: int,
    pause_image: str,
    dns: DNSConfig | None = None,
) -> str:
    if await runtime.inspect_image(pause_image) is None:
        try:
            await runtime.pull_image(pause_image)
        except ContainerRuntimeError as e:
            raise ContainerRuntimeError(
                f"the pod sandbox image {pause_image} is not on this node and cannot be pulled: {e}"
            ) from e
    config = SandboxConfig(
        pod=PodRef(uid=pod.metadata.uid, name=pod.metadata.name, namespace=pod.metadata.namespace),
        attempt=attempt,
        hostname=pod_hostname(pod),
        image=pause_image,
        host_network=pod.spec.host_network,
        termination_grace_seconds=grace_period(pod),
        dns=dns,
    )
    sandbox_id = await runtime.run_pod_sandbox(config)
    log.info(
        "pod %s/%s: sandbox %s started (attempt %d)",
        pod.metadata.namespace,
        pod.metadata.name,
        sandbox_id[:12],
        attempt,
    )
    return sandbox_id


def pod_ip(pod: core_pb2.Pod, rp: RuntimePod, host_ip: str) -> str:
    """Where hooks and probes reach the pod: the node's IP on the host's network, else its newest
    sandbox's (the one reported while none runs)."""
    if pod.spec.host_network:
        return host_ip
    sandbox = rp.latest_sandbox()
    return sandbox.ip if sandbox is not None and sandbox.ip else pod.status.pod_ip


async def remove_old_sandboxes(runtime: ContainerRuntime, rp: RuntimePod) -> None:
    """Stopped sandboxes of earlier attempts go; the newest stays (it holds the pod IP)."""
    latest = rp.latest_sandbox()
    for sandbox in rp.sandboxes:
        if sandbox is not latest and not sandbox.ready:
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
