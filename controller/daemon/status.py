"""A DaemonSet's status (kubernetes pkg/controller/daemon updateDaemonSetStatus,
storeDaemonSetStatus): over the nodes that should run its pod, how many do (current), whose
oldest pod is ready, available, of the current revision; the nodes running one that should not
(misscheduled); and the generation this describes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from controller.daemon.placement import by_creation_and_phase, is_updated
from controller.framework import pod_state
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2


@dataclass(frozen=True)
class Counts:
    desired: int = 0
    current: int = 0
    misscheduled: int = 0
    ready: int = 0
    updated: int = 0
    available: int = 0

    @property
    def unavailable(self) -> int:
        return self.desired - self.available


def count(
    ds: apps_pb2.DaemonSet,
    nodes: Sequence[core_pb2.Node],
    should_run: Callable[[core_pb2.Node], bool],
    node_pods: Mapping[str, Sequence[core_pb2.Pod]],
    hash_: str,
    now: datetime,
) -> Counts:
    desired = current = misscheduled = ready = updated = available = 0
    for node in nodes:
        pods = node_pods.get(node.metadata.name, ())
        if not should_run(node):
            misscheduled += 1 if pods else 0
            continue
        desired += 1
        if not pods:
            continue
        current += 1
        oldest = by_creation_and_phase(pods)[0]
        if pod_state.is_ready(oldest):
            ready += 1
            if pod_state.is_available(oldest, ds.spec.min_ready_seconds, now):
                available += 1
        if is_updated(oldest, hash_):
            updated += 1
    return Counts(desired, current, misscheduled, ready, updated, available)


def with_status(
    ds: apps_pb2.DaemonSet, counts: Counts, observed: bool
) -> apps_pb2.DaemonSet | None:
    """The DaemonSet with these counts (and, when `observed`, its generation observed); None when
    its status says so already."""
    s = ds.status
    current = (
        s.desired_number_scheduled,
        s.current_number_scheduled,
        s.number_misscheduled,
        s.number_ready,
        s.updated_number_scheduled,
        s.number_available,
        s.number_unavailable,
    )
    wanted = (
        counts.desired,
        counts.current,
        counts.misscheduled,
        counts.ready,
        counts.updated,
        counts.available,
        counts.unavailable,
    )
    if current == wanted and s.observed_generation >= ds.metadata.generation:
        return None
    out = apps_pb2.DaemonSet()
    out.CopyFrom(ds)
    st = out.status
    if observed:
        st.observed_generation = ds.metadata.generation
    (
        st.desired_number_scheduled,
        st.current_number_scheduled,
        st.number_misscheduled,
        st.number_ready,
        st.updated_number_scheduled,
        st.number_available,
        st.number_unavailable,
    ) = wanted
    return out


def next_available_in(
    ds: apps_pb2.DaemonSet, node_pods: Mapping[str, Sequence[core_pb2.Pod]], now: datetime
) -> float | None:
    """Seconds until a ready pod becomes available (minReadySeconds), to look again then."""
    if ds.spec.min_ready_seconds <= 0:
        return None
    waits = []
    for pods in node_pods.values():
        for pod in pods:
            at = pod_state.available_at(pod, ds.spec.min_ready_seconds)
            if at is not None and at >= now:
                waits.append((at - now + timedelta(seconds=1)).total_seconds())
    return min(waits, default=None)
