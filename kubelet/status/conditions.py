"""The pod conditions the kubelet owns (pkg/kubelet/status/generate.go): PodReadyToStartContainers,
Initialized, ContainersReady and Ready, from containerStatuses[].ready: the readiness probe's
verdict (kubelet/prober), or, without a readiness probe, whether the container runs. Sidecars
count as app containers for readiness, and have initialized once they have started."""

from __future__ import annotations

from collections.abc import Sequence

from kubelet.status.phase import FAILED, SUCCEEDED
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.sidecars import is_sidecar, sidecars

READY_TO_START = "PodReadyToStartContainers"
INITIALIZED = "Initialized"
CONTAINERS_READY = "ContainersReady"
READY = "Ready"
KUBELET_CONDITIONS = (READY_TO_START, INITIALIZED, READY, CONTAINERS_READY)


def _go_list(names: Sequence[str]) -> str:
    return "[" + " ".join(names) + "]"


def _condition(
    type_: str, true: bool, reason: str = "", message: str = ""
) -> core_pb2.PodCondition:
    return core_pb2.PodCondition(
        type=type_, status="True" if true else "False", reason=reason, message=message
    )


def containers_ready(
    spec: core_pb2.PodSpec,
    statuses: Sequence[core_pb2.ContainerStatus],
    phase: str,
    init_statuses: Sequence[core_pb2.ContainerStatus] = (),
) -> core_pb2.PodCondition:
    by_name = {s.name: s for s in (*init_statuses, *statuses)}
    serving = [*sidecars(spec), *spec.containers]
    unknown = [c.name for c in serving if c.name not in by_name]
    unready = [c.name for c in serving if c.name in by_name and not by_name[c.name].ready]
    if phase == SUCCEEDED and not unknown:
        return _condition(CONTAINERS_READY, False, "PodCompleted")
    if phase == FAILED:
        return _condition(CONTAINERS_READY, False, "PodFailed")
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_go_list(unknown)}")
    if unready:
        messages.append(f"containers with unready status: {_go_list(unready)}")
    if messages:
        return _condition(CONTAINERS_READY, False, "ContainersNotReady", ", ".join(messages))
    return _condition(CONTAINERS_READY, True)


def pod_ready(containers_ready_condition: core_pb2.PodCondition) -> core_pb2.PodCondition:
    c = containers_ready_condition
    return _condition(READY, c.status == "True", c.reason, c.message)


def initialized(
    spec: core_pb2.PodSpec,
    init_statuses: Sequence[core_pb2.ContainerStatus],
    statuses: Sequence[core_pb2.ContainerStatus],
    phase: str,
) -> core_pb2.PodCondition:
    by_name = {s.name: s for s in init_statuses}
    unknown = [c.name for c in spec.init_containers if c.name not in by_name]
    incomplete = [
        c.name
        for c in spec.init_containers
        if c.name in by_name and not _init_done(c, by_name[c.name])
    ]
    if phase == SUCCEEDED and not unknown:
        return _condition(INITIALIZED, True, "PodCompleted")
    if any(s.state.HasField("running") or s.state.HasField("terminated") for s in statuses):
        return _condition(INITIALIZED, True)  # an app container started: init finished before
    messages = []
    if unknown:
        messages.append(f"containers with unknown status: {_go_list(unknown)}")
    if incomplete:
        messages.append(f"containers with incomplete status: {_go_list(incomplete)}")
    if messages:
        return _condition(INITIALIZED, False, "ContainersNotInitialized", ", ".join(messages))
    return _condition(INITIALIZED, True)


def _init_done(container: core_pb2.Container, status: core_pb2.ContainerStatus) -> bool:
    """A sidecar is done initializing once it has started; any other init container once it
    has completed (isInitContainerInitialized)."""
    return status.started if is_sidecar(container) else status.ready


def kubelet_conditions(
    spec: core_pb2.PodSpec,
    sandbox_ready: bool,
    init_statuses: Sequence[core_pb2.ContainerStatus],
    statuses: Sequence[core_pb2.ContainerStatus],
    phase: str,
) -> list[core_pb2.PodCondition]:
    ready = containers_ready(spec, statuses, phase, init_statuses)
    return [
        _condition(READY_TO_START, sandbox_ready),
        initialized(spec, init_statuses, statuses, phase),
        pod_ready(ready),
        ready,
    ]


def merge_conditions(
    old: Sequence[core_pb2.PodCondition], new: Sequence[core_pb2.PodCondition], now: str
) -> list[core_pb2.PodCondition]:
    """The kubelet's conditions, then the others (PodScheduled, ...) as they were. A condition keeps
    its lastTransitionTime while its status stays the same."""
    old_by_type = {c.type: c for c in old}
    merged = []
    for condition in new:
        c = core_pb2.PodCondition()
        c.CopyFrom(condition)
        previous = old_by_type.get(c.type)
        c.last_transition_time = (
            previous.last_transition_time
            if previous is not None
            and previous.status == c.status
            and previous.last_transition_time
            else now
        )
        merged.append(c)
    owned = {c.type for c in new}
    merged.extend(c for c in old if c.type not in owned)
    return merged
