"""The pods table, computed exactly as printPod (pkg/printers/internalversion/printers.go)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.sidecars import is_sidecar, sidecars
from podplane.apimachinery.timeutil import human_age, parse
from podplane.printers.spec import Cell, Column, RowCondition, TableSpec, age_column, name_column

# The reason the node lifecycle controller gives a pod on a node that stopped answering.
NODE_UNREACHABLE_REASON = "NodeLost"


@dataclass(frozen=True)
class PodSummary:
    ready: str
    status: str
    restarts: str


def _later(current: datetime | None, candidate: str) -> datetime | None:
    t = parse(candidate)
    if t is None:
        return current
    return t if current is None or t > current else current


def _condition_true(pod: core_pb2.Pod, condition_type: str) -> bool:
    return any(c.type == condition_type and c.status == "True" for c in pod.status.conditions)


@dataclass
class _InitSummary:
    # The Init:... status while initializing, else None.
    reason: str | None = None
    restarts: int = 0
    last_restart: datetime | None = None
    # The sidecars' own restarts, which count once the pod has initialized.
    sidecar_restarts: int = 0
    sidecar_last_restart: datetime | None = None
    ready_sidecars: int = 0


def _init_summary(pod: core_pb2.Pod) -> _InitSummary:
    out = _InitSummary()
    specs = {c.name: c for c in pod.spec.init_containers}
    for i, status in enumerate(pod.status.init_container_statuses):
        sidecar = is_sidecar(specs.get(status.name))
        out.restarts += status.restart_count
        if sidecar:
            out.sidecar_restarts += status.restart_count
        if status.last_state.HasField("terminated"):
            finished_at = status.last_state.terminated.finished_at
            out.last_restart = _later(out.last_restart, finished_at)
            if sidecar:
                out.sidecar_last_restart = _later(out.sidecar_last_restart, finished_at)
        state = status.state
        if state.HasField("terminated") and state.terminated.exit_code == 0:
            continue
        if sidecar and status.started:
            out.ready_sidecars += status.ready
            continue
        if state.HasField("terminated"):
            t = state.terminated
            if t.reason:
                out.reason = "Init:" + t.reason
            elif t.signal:
                out.reason = f"Init:Signal:{t.signal}"
            else:
                out.reason = f"Init:ExitCode:{t.exit_code}"
            return out
        waiting = state.waiting.reason if state.HasField("waiting") else ""
        if waiting and waiting != "PodInitializing":
            out.reason = "Init:" + waiting
        else:
            out.reason = f"Init:{i}/{len(pod.spec.init_containers)}"
        return out
    return out


def summarize_pod(pod: core_pb2.Pod, now: datetime) -> PodSummary:
    """The READY, STATUS and RESTARTS cells of `kubectl get pods`: sidecars count among the
    containers, ready once started and ready, and their restarts count once the pod has
    initialized."""
    reason = pod.status.reason or pod.status.phase
    for condition in pod.status.conditions:
        if condition.type == "PodScheduled" and condition.reason == "SchedulingGated":
            reason = "SchedulingGated"
    total = len(pod.spec.containers) + len(sidecars(pod.spec))

    init = _init_summary(pod)
    ready = init.ready_sidecars
    restarts, last_restart = init.restarts, init.last_restart
    if init.reason is not None:
        reason = init.reason
    if init.reason is None or _condition_true(pod, "Initialized"):
        restarts, last_restart = init.sidecar_restarts, init.sidecar_last_restart
        has_running = False
        for status in reversed(pod.status.container_statuses):
            restarts += status.restart_count
            if status.last_state.HasField("terminated"):
                last_restart = _later(last_restart, status.last_state.terminated.finished_at)
            state = status.state
            if state.HasField("waiting") and state.waiting.reason:
                reason = state.waiting.reason
            elif state.HasField("terminated") and state.terminated.reason:
                reason = state.terminated.reason
            elif state.HasField("terminated"):
                t = state.terminated
                reason = f"Signal:{t.signal}" if t.signal else f"ExitCode:{t.exit_code}"
            elif status.ready and state.HasField("running"):
                has_running = True
                ready += 1
        # A pod with a container still running is not Completed.
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(pod, "Ready") else "NotReady"

    if pod.metadata.deletion_timestamp:
        if pod.status.reason == NODE_UNREACHABLE_REASON:
            reason = "Unknown"
        elif pod.status.phase not in ("Succeeded", "Failed"):
            reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts and last_restart is not None:
        restarts_cell = f"{restarts} ({human_age(last_restart.isoformat(), now)} ago)"
    return PodSummary(ready=f"{ready}/{total}", status=reason, restarts=restarts_cell)


def pod_row(pod: core_pb2.Pod, now: datetime) -> list[Cell]:
    summary = summarize_pod(pod, now)
    ip = pod.status.pod_ips[0].ip if pod.status.pod_ips else ""
    return [
        pod.metadata.name,
        summary.ready,
        summary.status,
        summary.restarts,
        human_age(pod.metadata.creation_timestamp, now),
        ip or "<none>",
        pod.spec.node_name or "<none>",
        pod.status.nominated_node_name or "<none>",
        readiness_gates(pod),
    ]


def readiness_gates(pod: core_pb2.Pod) -> str:
    """How many of the pod's readiness gates have their condition True, of how many (kubectl's
    READINESS GATES column)."""
    gates = pod.spec.readiness_gates
    if not gates:
        return "<none>"
    conditions = {c.type: c.status for c in pod.status.conditions}
    passed = sum(1 for g in gates if conditions.get(g.condition_type) == "True")
    return f"{passed}/{len(gates)}"


_SUCCEEDED = (
    RowCondition("Completed", "True", "Succeeded", "The pod has completed successfully."),
)
_FAILED = (RowCondition("Completed", "True", "Failed", "The pod failed."),)


def pod_conditions(pod: core_pb2.Pod) -> Sequence[RowCondition]:
    """A finished pod's row is Completed, which clients may show less of."""
    return {"Succeeded": _SUCCEEDED, "Failed": _FAILED}.get(pod.status.phase, ())


POD_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Ready", "string", "The aggregate readiness state of this pod for accepting traffic."
        ),
        Column("Status", "string", "The aggregate status of the containers in this pod."),
        Column(
            "Restarts",
            "string",
            "The number of times the containers in this pod have been restarted and when the "
            "last container in this pod has restarted.",
        ),
        age_column(),
        Column(
            "IP",
            "string",
            "podIP address allocated to the pod. Routable at least within the "
            "cluster. Empty if not yet allocated.",
            priority=1,
        ),
        Column(
            "Node",
            "string",
            "NodeName indicates in which node this pod is scheduled. If empty, this pod is a "
            "candidate for scheduling by the scheduler defined in schedulerName. Once this "
            "field is set, the kubelet for this node becomes responsible for the lifecycle of "
            "this pod. This field should not be used to express a desire for the pod to be "
            "scheduled on a specific node. "
            "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
            priority=1,
        ),
        Column(
            "Nominated Node",
            "string",
            "nominatedNodeName is set only when this pod preempts other pods on the node, but "
            "it cannot be scheduled right away as preemption victims receive their graceful "
            "termination periods. This field does not guarantee that the pod will be scheduled "
            "on this node. Scheduler may decide to place the pod elsewhere if other nodes "
            "become available sooner. Scheduler may also decide to give the resources on this "
            "node to a higher priority pod that is created after preemption. As a result, this "
            "field may be different than PodSpec.nodeName when the pod is scheduled.",
            priority=1,
        ),
        Column(
            "Readiness Gates",
            "string",
            "If specified, all readiness gates will be evaluated for pod readiness. A pod is "
            "ready when all its containers are ready AND all conditions specified in the "
            'readiness gates have status equal to "True" More info: '
            "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
            priority=1,
        ),
    ),
    row=pod_row,
    conditions=pod_conditions,
)
