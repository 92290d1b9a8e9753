"""When a container gets a new instance: its pod's restart policy applied to its newest instance
(kubecontainer's ShouldContainerBeRestarted). The pod's actions start the new instance; the pod's
status says why one that should run is waiting."""

from __future__ import annotations

from kubelet.runtime.types import ContainerState, ContainerStatus
from podplane.api.core.v1 import core_pb2


def restart_policy(pod: core_pb2.Pod) -> str:
    return pod.spec.restart_policy or "Always"


def should_restart(pod: core_pb2.Pod, latest: ContainerStatus | None) -> bool:
    """Whether a container whose newest instance is `latest` should get a new one (kubecontainer's
    ShouldContainerBeRestarted)."""
    if pod.metadata.deletion_timestamp:
        return False
    if latest is None:
        return True
    if latest.state == ContainerState.RUNNING:
        return False
    if latest.state in (ContainerState.CREATED, ContainerState.UNKNOWN):
        return True
    policy = restart_policy(pod)
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return latest.exit_code != 0
    return True
