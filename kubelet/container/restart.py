"""When a container gets a new instance: its restart policy applied to its newest instance
(kubecontainer's ShouldContainerBeRestarted). The pod's restartPolicy rules its app containers; a
sidecar (an init container with restartPolicy Always) is restarted whatever the pod's. The pod's
actions start the new instance; the pod's status says why one that should run is waiting."""

from __future__ import annotations

from kubelet.runtime.types import ContainerState, ContainerStatus
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.sidecars import CONTAINER_RESTART_POLICY_ALWAYS, is_sidecar


def restart_policy(pod: core_pb2.Pod, container: core_pb2.Container | None = None) -> str:
    """The policy that restarts `container` (the pod's, when none is given)."""
    if is_sidecar(container):
        return CONTAINER_RESTART_POLICY_ALWAYS
    return pod.spec.restart_policy or "Always"


def should_restart(
    pod: core_pb2.Pod, latest: ContainerStatus | None, container: core_pb2.Container | None = None
) -> bool:
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
    policy = restart_policy(pod, container)
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return latest.exit_code != 0
    return True
