"""The pods table, computed exactly as kubectl's printPod
(pkg/printers/internalversion/printers.go)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from podctl.printers.table import Column, TableSpec
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age, parse

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


def _init_reason(pod: core_pb2.Pod) -> tuple[str | None, int, datetime | None]:
    """(the Init:... status while initializing or None, init restarts, last init restart)."""
    restarts = 0
    last_restart: datetime | None = None
    for i, status in enumerate(pod.status.init_container_statuses):
        restarts += status.restart_count
        if status.last_state.HasField("terminated"):
            last_restart = _later(last_restart, status.last_state.terminated.finished_at)
        state = status.state
        if state.HasField("terminated") and state.terminated.exit_code == 0:
            continue
        if state.HasField("terminated"):
            t = state.terminated
            if t.reason:
                return "Init:" + t.reason, restarts, last_restart
            if t.signal:
                return f"Init:Signal:{t.signal}", restarts, last_restart
            return f"Init:ExitCode:{t.exit_code}", restarts, last_restart
        waiting = state.waiting.reason if state.HasField("waiting") else ""
        if waiting and waiting != "PodInitializing":
            return "Init:" + waiting, restarts, last_restart
        return f"Init:{i}/{len(pod.spec.init_containers)}", restarts, last_restart
    return None, restarts, last_restart


def summarize_pod(pod: core_pb2.Pod, now: datetime) -> PodSummary:
    """The READY, STATUS and RESTARTS cells of `kubectl get pods`."""
    reason = pod.status.reason or pod.status.phase
    for condition in pod.status.conditions:
        if condition.type == "PodScheduled" and condition.reason == "SchedulingGated":
            reason = "SchedulingGated"
    total = len(pod.spec.containers)
    ready = 0

    init_reason, restarts, last_restart = _init_reason(pod)
    if init_reason is not None:
        reason = init_reason
    if init_reason is None or _condition_true(pod, "Initialized"):
        restarts, last_restart = 0, None
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


def pod_row(pod: core_pb2.Pod, now: datetime) -> list[str]:
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
        "<none>",  # readiness gates: podplane's PodSpec has none
    ]


POD_TABLE = TableSpec(
    columns=(
        Column("Name"),
        Column("Ready"),
        Column("Status"),
        Column("Restarts"),
        Column("Age"),
        Column("IP", wide=True),
        Column("Node", wide=True),
        Column("Nominated Node", wide=True),
        Column("Readiness Gates", wide=True),
    ),
    row=pod_row,
)
