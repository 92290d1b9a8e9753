"""Whether a node is alive, and what the node lifecycle controller writes when it is not
(kubernetes pkg/controller/nodelifecycle tryUpdateNodeHealth and its taint swaps).

A node shows it is alive by renewing its Lease in kube-node-lease (or by a new heartbeat in its
Ready condition). What counts is when the controller saw the renewal, on its own clock, not the
renewTime the kubelet wrote: clock skew between hosts cannot make a node look dead or alive, and a
controller that just started (or just became leader) gives every node a full grace period."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil

NODE_LEASE_NAMESPACE = "kube-node-lease"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
CONTROLLER_TAINTS = (UNREACHABLE_TAINT, NOT_READY_TAINT)
NO_EXECUTE = "NoExecute"
READY = "Ready"
# Set to Unknown with Ready when they are there; the kubelet sets them again when it is back.
PRESSURE_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure")
STATUS_UNKNOWN_REASON = "NodeStatusUnknown"
STATUS_UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
NEVER_UPDATED_REASON = "NodeStatusNeverUpdated"
NEVER_UPDATED_MESSAGE = "Kubelet never posted node status."


def condition(node: core_pb2.Node, type_: str) -> core_pb2.NodeCondition | None:
    for c in node.status.conditions:  # a loop, not next(genexpr): asked at every lease renewal
        if c.type == type_:
            return c
    return None


@dataclass
class _Seen:
    probe: float  # when the node last showed it is alive, on our clock
    renew_time: str
    heartbeat: str


class HeartbeatTracker:
    """Remembers, per node, when its lease renewTime or Ready heartbeat last changed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, _Seen] = {}

    def observe(self, name: str, node: core_pb2.Node, lease: lease_pb2.Lease | None) -> float:
        """The last time (our clock) the node was seen alive; the first look counts as one."""
        renew_time = lease.spec.renew_time if lease is not None else ""
        ready = condition(node, READY)
        heartbeat = ready.last_heartbeat_time if ready is not None else ""
        seen = self._seen.get(name)
        if seen is None:
            seen = self._seen[name] = _Seen(self._clock(), renew_time, heartbeat)
        elif seen.renew_time != renew_time or seen.heartbeat != heartbeat:
            if _later(renew_time, seen.renew_time) or _later(heartbeat, seen.heartbeat):
                seen.probe = self._clock()
            seen.renew_time, seen.heartbeat = renew_time, heartbeat
        return seen.probe

    def forget(self, name: str) -> None:
        self._seen.pop(name, None)


def _later(value: str, than: str) -> bool:
    new, old = timeutil.parse(value), timeutil.parse(than)
    return new is not None and (old is None or new > old)


def mark_unknown(node: core_pb2.Node, now: str) -> core_pb2.Node | None:
    """A copy of the node whose Ready condition (and the pressure conditions it has) say Unknown;
    None when they already do. Heartbeat times stay: they are the kubelet's."""
    updated = core_pb2.Node()
    updated.CopyFrom(node)
    changed = False
    if condition(updated, READY) is None:
        updated.status.conditions.add(
            type=READY,
            status="Unknown",
            reason=NEVER_UPDATED_REASON,
            message=NEVER_UPDATED_MESSAGE,
            last_heartbeat_time=node.metadata.creation_timestamp,
            last_transition_time=now,
        )
        changed = True
    for c in updated.status.conditions:
        if (c.type == READY or c.type in PRESSURE_CONDITIONS) and c.status != "Unknown":
            c.status = "Unknown"
            c.reason = STATUS_UNKNOWN_REASON
            c.message = STATUS_UNKNOWN_MESSAGE
            c.last_transition_time = now
            changed = True
    return updated if changed else None


def wanted_taint(node: core_pb2.Node, lease: lease_pb2.Lease | None, expired: bool) -> str | None:
    """The NoExecute taint the controller wants on the node: unreachable while it is not heard
    from, not-ready while its kubelet reports Ready=False, else none.

    A Ready=Unknown node whose lease was renewed after it went Unknown is back: its kubelet will
    post Ready soon, and the taint goes now. One not renewed since stays unreachable even though a
    controller that just started has not waited out the grace period yet."""
    if expired:
        return UNREACHABLE_TAINT
    ready = condition(node, READY)
    if ready is None or ready.status == "True":
        return None
    if ready.status == "False":
        return NOT_READY_TAINT
    renewed = lease is not None and _later(lease.spec.renew_time, ready.last_transition_time)
    return None if renewed else UNREACHABLE_TAINT


def _controller_taints(node: core_pb2.Node) -> list[core_pb2.Taint]:
    return [t for t in node.spec.taints if t.key in CONTROLLER_TAINTS and t.effect == NO_EXECUTE]


def has_taints(node: core_pb2.Node, key: str | None) -> bool:
    """Whether the node's controller NoExecute taints are exactly `key` (none for None)."""
    if not node.spec.taints:
        return key is None
    return [t.key for t in _controller_taints(node)] == ([key] if key else [])


def with_taint(node: core_pb2.Node, key: str | None, now: str) -> core_pb2.Node | None:
    """A copy of the node whose controller NoExecute taints are exactly `key` (or none); None when
    they already are. Swapping not-ready for unreachable (or back) keeps the timeAdded: the pods'
    eviction count goes on."""
    if has_taints(node, key):
        return None
    ours = _controller_taints(node)
    updated = core_pb2.Node()
    updated.CopyFrom(node)
    del updated.spec.taints[:]
    updated.spec.taints.extend(t for t in node.spec.taints if t not in ours)
    if key:
        since = min((t.time_added for t in ours if t.time_added), default="") or now
        updated.spec.taints.add(key=key, effect=NO_EXECUTE, time_added=since)
    return updated


def has_taint(node: core_pb2.Node, key: str) -> bool:
    return any(t.key == key and t.effect == NO_EXECUTE for t in node.spec.taints)
