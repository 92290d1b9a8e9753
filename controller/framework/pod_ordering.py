"""Which pods a controller deletes first when it has too many (kubernetes
pkg/controller/controller_utils.go ActivePodsWithRanks, replicaset getPodsToDelete).

Pods that matter least come first: unscheduled before scheduled; Pending before Unknown before
Running; not ready before ready; lower pod-deletion-cost first; more pods of the same family on
its node first (rank); ready for less time first; more container restarts first; newest first.
Times are compared exactly (the LogarithmicScaleDown bucketing is left out, so the order is
deterministic)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from controller.framework import pod_state
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil

DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
# Go's map lookup gives 0 for a phase not in the map, so an empty phase sorts with Pending.
_PHASE_ORDINAL = {"Pending": 0, "Unknown": 1, "Running": 2}
# (scheduled, phase, ready, deletion cost, -rank, ready time, -restarts, creation time)
DeletionKey = tuple[bool, int, bool, int, int, tuple[int, float], int, tuple[int, float]]


def deletion_cost(pod: core_pb2.Pod) -> int:
    """The pod-deletion-cost annotation as an int32; 0 when absent or invalid."""
    try:
        cost = int(pod.metadata.annotations.get(DELETION_COST_ANNOTATION, "0"))
    except ValueError:
        return 0
    return cost if -(2**31) <= cost < 2**31 else 0


def _newest_first(value: str) -> tuple[int, float]:
    """Sorts a zero (unknown) time first, then later times before earlier ones (afterOrZero)."""
    t = timeutil.parse(value)
    return (0, 0.0) if t is None else (1, -t.timestamp())


def _ready_time(pod: core_pb2.Pod) -> tuple[int, float]:
    c = pod_state.ready_condition(pod)
    return _newest_first(c.last_transition_time if c is not None else "")


def deletion_key(pod: core_pb2.Pod, rank: int = 0) -> DeletionKey:
    """Sort key: the pod to delete first sorts lowest."""
    ready = pod_state.is_ready(pod)
    return (
        bool(pod.spec.node_name),
        _PHASE_ORDINAL.get(pod.status.phase, 0),
        ready,
        deletion_cost(pod),
        -rank,
        # Compared only when both are ready; all not-ready pods tie here.
        _ready_time(pod) if ready else (0, 0.0),
        -pod_state.max_container_restarts(pod),
        _newest_first(pod.metadata.creation_timestamp),
    )


def ranks_by_colocation(pods: Sequence[core_pb2.Pod], related: Sequence[core_pb2.Pod]) -> list[int]:
    """Each pod's rank: how many active related pods (its own and its siblings', e.g. the other
    ReplicaSets of one Deployment) run on its node (getPodsRankedByRelatedPodsOnSameNode)."""
    on_node = Counter(p.spec.node_name for p in related if pod_state.is_active(p))
    return [on_node[p.spec.node_name] for p in pods]


def order_for_deletion(
    pods: Sequence[core_pb2.Pod], ranks: Sequence[int] | None = None
) -> list[core_pb2.Pod]:
    ranks = ranks if ranks is not None else [0] * len(pods)
    order = sorted(range(len(pods)), key=lambda i: deletion_key(pods[i], ranks[i]))
    return [pods[i] for i in order]


def pods_to_delete(
    pods: Sequence[core_pb2.Pod], related: Sequence[core_pb2.Pod], count: int
) -> list[core_pb2.Pod]:
    """The `count` pods a controller with too many deletes."""
    if count >= len(pods):
        return list(pods)
    return order_for_deletion(pods, ranks_by_colocation(pods, related))[:count]
