"""The pod conditions the kubelet owns (pkg/kubelet/status/generate.go): PodReadyToStartContainers,
Initialized, ContainersReady and Ready, from containerStatuses[].ready: the readiness probe's
verdict (kubelet/prober), or, without a readiness probe, whether the container runs. Sidecars
count as app containers for readiness, and have initialized once they have started.

Ready also needs every readiness gate's condition, which others set in the pod's status (a load
balancer controller, a user's `kubectl patch --subresource=status`), to be True: until then
Ready is False with ReadinessGatesNotReady, and ContainersReady alone says the containers are."""

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


READINESS_GATES_NOT_READY = "ReadinessGatesNotReady"


def pod_ready(
    containers_ready_condition: core_pb2.PodCondition,
    gates: Sequence[core_pb2.PodReadinessGate] = (),
    conditions: Sequence[core_pb2.PodCondition] = (),
) -> core_pb2.PodCondition:
    """ContainersReady's status and why, or, when the containers are ready, whether each
    readiness gate's condition (among `conditions`, the pod's others) is True."""
    c = containers_ready_condition
    if c.status != "True":
        return _condition(READY, False, c.reason, c.message)
    by_type = {condition.type: condition for condition in conditions}
    unready = []
    for gate in gates:
        found = by_type.get(gate.condition_type)
        if found is None:
            unready.append(
                f'corresponding condition of pod readiness gate "{gate.condition_type}" does '
                f"not exist."
            )
        elif found.status != "True":
            unready.append(
                f'the status of pod readiness gate "{gate.condition_type}" is not "True", but '
                f"{found.status}"
            )
    if unready:
        return _condition(READY, False, READINESS_GATES_NOT_READY, ", ".join(unready))
    return _condition(READY, True)


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
    others: Sequence[core_pb2.PodCondition] = (),
) -> list[core_pb2.PodCondition]:
    """The kubelet's conditions; `others` are the pod's conditions it does not own (its
    readiness gates' among them)."""
    ready = containers_ready(spec, statuses, phase, init_statuses)
    return [
        _condition(READY_TO_START, sandbox_ready),
        initialized(spec, init_statuses, statuses, phase),
        pod_ready(ready, spec.readiness_gates, foreign(others)),
        ready,
    ]


def foreign(conditions: Sequence[core_pb2.PodCondition]) -> list[core_pb2.PodCondition]:
    """The conditions others own (PodScheduled, DisruptionTarget, readiness gates', ...)."""
    return [c for c in conditions if c.type not in KUBELET_CONDITIONS]


def with_foreign_conditions(
    status: core_pb2.PodStatus,
    spec: core_pb2.PodSpec,
    latest: Sequence[core_pb2.PodCondition],
    now: str,
) -> core_pb2.PodStatus:
    """`status` with the others' conditions as the API holds them now (`latest`), and Ready
    evaluated again against them: the status manager's merge before it writes over a pod that
    someone else changed meanwhile."""
    merged = core_pb2.PodStatus()
    merged.CopyFrom(status)
    ready_of = {c.type: c for c in status.conditions}
    containers = ready_of.get(CONTAINERS_READY)
    own = [c for c in status.conditions if c.type in KUBELET_CONDITIONS]
    if containers is not None:
        ready = pod_ready(containers, spec.readiness_gates, foreign(latest))
        own = [ready if c.type == READY else c for c in own]
    del merged.conditions[:]
    # The kubelet's own (their transition times kept while unchanged), then the others'.
    merged.conditions.extend(merge_conditions(status.conditions, own, now)[: len(own)])
    merged.conditions.extend(foreign(latest))
    return merged


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
