"""A DaemonSet's RollingUpdate (kubernetes pkg/controller/daemon/update.go rollingUpdate,
findUpdatedPodsOnNode, updatedDesiredNodeCounts). Without surge, old pods are deleted, as many
at a time as maxUnavailable allows once the nodes already without an available pod are counted
(an old pod that is not available goes at once); the node then gets its new pod from the main
loop. With surge, a new pod is started beside an old available one on up to maxSurge nodes at a
time (at once where the old one is not available), and the old one deleted when the new one is
available."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from controller.daemon.placement import is_updated, surge_count, unavailable_count
from controller.framework import pod_state
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2


@dataclass
class Limits:
    max_surge: int
    max_unavailable: int
    desired: int


def limits(ds: apps_pb2.DaemonSet, desired: int) -> Limits:
    """updatedDesiredNodeCounts' numbers; a DaemonSet allowing neither surge nor unavailability
    (which validation refuses) updates one node at a time."""
    surge, unavailable = surge_count(ds, desired), unavailable_count(ds, desired)
    if desired > 0 and surge == 0 and unavailable == 0:
        unavailable = 1
    return Limits(surge, unavailable, desired)


def updated_and_old(
    pods: Sequence[core_pb2.Pod], hash_: str
) -> tuple[core_pb2.Pod | None, core_pb2.Pod | None, bool]:
    """findUpdatedPodsOnNode: the node's new and old pod among those not being deleted; False
    when it has more than one of either (left to the main loop)."""
    new: core_pb2.Pod | None = None
    old: core_pb2.Pod | None = None
    for pod in pods:
        if pod.metadata.deletion_timestamp:
            continue
        if is_updated(pod, hash_):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


@dataclass
class Update:
    """What one pass of the rolling update does: old pods to delete, nodes to start a new pod
    on."""

    delete: list[core_pb2.Pod] = field(default_factory=list)
    create_on: list[str] = field(default_factory=list)


def rolling_update(
    ds: apps_pb2.DaemonSet,
    node_pods: Mapping[str, Sequence[core_pb2.Pod]],
    should_run: Callable[[str], bool],
    hash_: str,
    now: datetime,
) -> Update:
    """`node_pods` has an entry (maybe empty) for every node that should run a pod and for every
    node with pods; `should_run` says whether a node should run one."""
    desired = sum(1 for node in node_pods if should_run(node))
    lim = limits(ds, desired)
    if lim.max_surge == 0:
        return _without_surge(ds, node_pods, hash_, now, lim)
    return _with_surge(ds, node_pods, should_run, hash_, now, lim)


def _available(ds: apps_pb2.DaemonSet, pod: core_pb2.Pod, now: datetime) -> bool:
    return pod_state.is_available(pod, ds.spec.min_ready_seconds, now)


def _without_surge(
    ds: apps_pb2.DaemonSet,
    node_pods: Mapping[str, Sequence[core_pb2.Pod]],
    hash_: str,
    now: datetime,
    lim: Limits,
) -> Update:
    unavailable = 0
    replacements: list[core_pb2.Pod] = []
    candidates: list[core_pb2.Pod] = []
    for pods in node_pods.values():
        new, old, ok = updated_and_old(pods, hash_)
        if not ok or (old is None) == (new is None):
            # Excess pods, no pod, or an old and a new one: the main loop's to settle.
            unavailable += 1
        elif new is not None:
            if not _available(ds, new, now):
                unavailable += 1
        elif old is not None and not _available(ds, old, now):
            replacements.append(old)  # not serving anyway: replace it now
            unavailable += 1
        elif old is not None and unavailable < lim.max_unavailable:
            candidates.append(old)
    room = max(0, min(lim.max_unavailable - unavailable, len(candidates)))
    return Update(delete=replacements + candidates[:room])


def _with_surge(
    ds: apps_pb2.DaemonSet,
    node_pods: Mapping[str, Sequence[core_pb2.Pod]],
    should_run: Callable[[str], bool],
    hash_: str,
    now: datetime,
    lim: Limits,
) -> Update:
    update = Update()
    leaving: list[core_pb2.Pod] = []  # old available pods on nodes that should not run one
    candidates: list[str] = []
    allowed: list[str] = []
    surging = available = 0
    for node, pods in node_pods.items():
        new, old, ok = updated_and_old(pods, hash_)
        if not ok:
            surging += 1
            continue
        serving = old if old is not None else new
        if serving is not None and _available(ds, serving, now):
            available += 1
        if old is None:
            continue  # nothing to replace; the main loop starts a missing pod
        if new is None:
            if not _available(ds, old, now):
                if should_run(node):
                    allowed.append(node)
                else:
                    update.delete.append(old)
            elif not should_run(node):
                leaving.append(old)
            elif surging < lim.max_surge:
                candidates.append(node)
        elif not _available(ds, new, now):
            surging += 1  # waiting for the new pod
        else:
            update.delete.append(old)  # the new pod serves: the old one goes
    # With surge the owner expects every node served: a pod on a node leaving the set goes only
    # as other nodes' pods become available.
    spare = min(max(available - lim.desired, 0), len(leaving))
    update.delete += leaving[:spare]
    room = max(0, min(lim.max_surge - surging, len(candidates)))
    update.create_on = allowed + candidates[:room]
    return update
