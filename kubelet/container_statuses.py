"""Runtime container instances -> the API's containerStatuses / initContainerStatuses
(kubelet_pods.go convertToAPIContainerStatuses)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from kubelet.pod_actions import should_restart
from kubelet.runtime.types import ContainerState, ContainerStatus
from kubelet.runtime_pod import RuntimePod
from podplane.api.core.v1 import core_pb2

CONTAINER_ID_PREFIX = "docker://"
# Why a container is not running although it should: (reason, message) by (pod uid, container).
Reasons = Mapping[tuple[str, str], tuple[str, str]]


def api_state(c: ContainerStatus) -> core_pb2.ContainerState:
    if c.state == ContainerState.RUNNING:
        return core_pb2.ContainerState(
            running=core_pb2.ContainerStateRunning(started_at=c.started_at))
    if c.state == ContainerState.EXITED:
        reason = c.reason or ("Completed" if c.exit_code == 0 else "Error")
        return core_pb2.ContainerState(terminated=core_pb2.ContainerStateTerminated(
            exit_code=c.exit_code, reason=reason, message=c.message, started_at=c.started_at,
            finished_at=c.finished_at, container_id=CONTAINER_ID_PREFIX + c.id))
    if c.state == ContainerState.CREATED:
        return core_pb2.ContainerState(waiting=core_pb2.ContainerStateWaiting(
            reason="ContainerCreating"))
    return core_pb2.ContainerState(waiting=core_pb2.ContainerStateWaiting(
        reason="ContainerStatusUnknown", message="The container state could not be read"))


def _waiting(reason: str, message: str = "") -> core_pb2.ContainerState:
    return core_pb2.ContainerState(waiting=core_pb2.ContainerStateWaiting(
        reason=reason, message=message))


def container_statuses(pod: core_pb2.Pod, containers: Sequence[core_pb2.Container],
                       rp: RuntimePod, old: Sequence[core_pb2.ContainerStatus],
                       reasons: Reasons, is_init: bool) -> list[core_pb2.ContainerStatus]:
    old_by_name = {s.name: s for s in old}
    default_reason = ("PodInitializing" if pod.spec.init_containers and not is_init
                      else "ContainerCreating")
    result = []
    for container in containers:
        instances = rp.instances(container.name)
        latest = instances[0] if instances else None
        status = core_pb2.ContainerStatus(name=container.name, image=container.image)
        if latest is None:
            previous = old_by_name.get(container.name)
            if previous is not None and previous.state.HasField("terminated"):
                status.CopyFrom(previous)  # its instance is gone; what it did stays reported
            else:
                status.state.CopyFrom(_waiting(default_reason))
                status.started = False
                if previous is not None:
                    status.restart_count = previous.restart_count
                    if previous.last_state.ListFields():
                        status.last_state.CopyFrom(previous.last_state)
        else:
            status.state.CopyFrom(api_state(latest))
            status.container_id = CONTAINER_ID_PREFIX + latest.id
            status.image_id = CONTAINER_ID_PREFIX + latest.image_ref if latest.image_ref else ""
            status.restart_count = latest.restart_count
            if len(instances) > 1 and instances[1].state == ContainerState.EXITED:
                status.last_state.CopyFrom(api_state(instances[1]))
            running = latest.state == ContainerState.RUNNING
            status.started = running
            status.ready = ((latest.state == ContainerState.EXITED and latest.exit_code == 0)
                            if is_init else running)

        init_done = (is_init and latest is not None and latest.state == ContainerState.EXITED
                     and latest.exit_code == 0)
        reason = reasons.get((pod.metadata.uid, container.name))
        if reason is not None and not init_done and should_restart(pod, latest):
            if status.state.HasField("terminated"):
                status.last_state.CopyFrom(status.state)
            status.state.CopyFrom(_waiting(*reason))
            status.ready = False
            status.started = False
        result.append(status)
    return result
