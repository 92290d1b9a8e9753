"""The pod sandbox: a pause container that holds the pod's network (and IPC) namespace, so all of a
pod's containers share one IP, localhost and hostname. Its IP, from the node's bridge on the pod
CIDR, is the pod IP."""

from __future__ import annotations

import logging

from kubelet.container.config import grace_period
from kubelet.runtime.types import (
    ContainerRuntime,
    ContainerRuntimeError,
    DNSConfig,
    PodRef,
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
