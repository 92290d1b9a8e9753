"""When a node counts as gone (its lease not renewed for the grace period, on the controller's own
clock), what the controller writes then (Ready and the pressure conditions Unknown), and which
NoExecute taint it wants on the node."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from controller.nodelifecycle.health import (
    NOT_READY_TAINT,
    UNREACHABLE_TAINT,
    HeartbeatTracker,
    mark_unknown,
    wanted_taint,
    with_taint,
)
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2

T0 = "2030-01-01T00:00:00Z"
T1 = "2030-01-01T00:00:10Z"
T2 = "2030-01-01T00:00:20Z"


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def node(
    ready: str | None = "True",
    *,
    heartbeat: str = T0,
    transition: str = T0,
    pressure: bool = True,
    taints: Sequence[tuple[str, str]] = (),
) -> core_pb2.Node:
    n = core_pb2.Node()
    n.metadata.name = "node-1"
    n.metadata.creation_timestamp = "2029-12-31T23:00:00Z"
    if pressure:
        n.status.conditions.add(
            type="MemoryPressure",
            status="False",
            reason="KubeletHasSufficientMemory",
            last_heartbeat_time=heartbeat,
            last_transition_time=T0,
        )
    if ready is not None:
        n.status.conditions.add(
            type="Ready",
            status=ready,
            reason="KubeletReady",
            last_heartbeat_time=heartbeat,
            last_transition_time=transition,
        )
    for key, added in taints:
        n.spec.taints.add(key=key, effect="NoExecute", time_added=added)
    return n


def lease(renew_time: str) -> lease_pb2.Lease:
    return lease_pb2.Lease(
        spec=lease_pb2.LeaseSpec(holder_identity="node-1", renew_time=renew_time)
    )


def test_a_node_is_alive_as_long_as_its_lease_renewals_are_seen() -> None:
    clock = Clock()
    tracker = HeartbeatTracker(clock)
    n = node()
    assert tracker.observe("node-1", n, lease(T0)) == 500.0  # first look counts as a sign of life
    clock.now = 530.0
    assert tracker.observe("node-1", n, lease(T0)) == 500.0  # nothing new
    assert tracker.observe("node-1", n, lease(T1)) == 530.0  # renewed
    clock.now = 560.0
    assert tracker.observe("node-1", n, lease(T0)) == 530.0  # an older renewTime is no sign
    assert tracker.observe("node-1", node(heartbeat=T2), lease(T0)) == 560.0  # a status post is


def test_what_counts_is_when_the_renewal_was_seen_not_the_renew_time_written() -> None:
    clock = Clock()
    tracker = HeartbeatTracker(clock)
    # A renewTime far in the past (a skewed kubelet clock, or a controller that just started):
    # the node still gets a full grace period from when the controller first looked.
    assert tracker.observe("node-1", node(), lease("2001-01-01T00:00:00.000000Z")) == 500.0
    tracker.forget("node-1")
    clock.now = 700.0
    assert tracker.observe("node-1", node(), lease(T0)) == 700.0


def test_mark_unknown_sets_ready_and_the_pressure_conditions_it_has() -> None:
    marked = mark_unknown(node(heartbeat=T0), T2)
    assert marked is not None
    conditions = {c.type: c for c in marked.status.conditions}
    assert set(conditions) == {"Ready", "MemoryPressure"}  # no DiskPressure added
    for c in conditions.values():
        assert (c.status, c.reason, c.message, c.last_transition_time, c.last_heartbeat_time) == (
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
            T2,
            T0,
        )
    assert mark_unknown(marked, T2) is None  # already so: nothing to write


def test_a_node_that_never_posted_status_gets_ready_unknown() -> None:
    marked = mark_unknown(node(ready=None, pressure=False), T2)
    assert marked is not None
    (ready,) = marked.status.conditions
    assert (ready.type, ready.status, ready.reason) == (
        "Ready",
        "Unknown",
        "NodeStatusNeverUpdated",
    )


@pytest.mark.parametrize(
    "n, renewed, expired, taint",
    [
        (node("True"), T0, False, None),
        (node("True"), T0, True, UNREACHABLE_TAINT),
        (node("False"), T0, False, NOT_READY_TAINT),
        (node("False"), T0, True, UNREACHABLE_TAINT),
        # Unknown, lease not renewed since it went Unknown (e.g. the controller restarted): stays.
        (node("Unknown", transition=T1), "2030-01-01T00:00:05.000000Z", False, UNREACHABLE_TAINT),
        # Unknown, but the lease was renewed since: the kubelet is back, its Ready post will follow.
        (node("Unknown", transition=T1), "2030-01-01T00:00:15.000000Z", False, None),
        (node(None), T0, False, None),
    ],
    ids=[
        "ready",
        "ready-but-silent",
        "not-ready",
        "not-ready-and-silent",
        "unknown-still-silent",
        "unknown-renewed-since",
        "never-posted-within-startup-grace",
    ],
)
def test_the_wanted_taint(n: core_pb2.Node, renewed: str, expired: bool, taint: str | None) -> None:
    assert wanted_taint(n, lease(renewed), expired) == taint


def test_with_taint_adds_swaps_and_removes_keeping_other_taints() -> None:
    n = node()
    n.spec.taints.add(key="dedicated", value="gpu", effect="NoSchedule")
    tainted = with_taint(n, UNREACHABLE_TAINT, T1)
    assert tainted is not None
    assert [(t.key, t.effect, t.time_added) for t in tainted.spec.taints] == [
        ("dedicated", "NoSchedule", ""),
        (UNREACHABLE_TAINT, "NoExecute", T1),
    ]
    assert with_taint(tainted, UNREACHABLE_TAINT, T2) is None
    # not-ready replacing unreachable keeps its timeAdded: the eviction count goes on.
    swapped = with_taint(tainted, NOT_READY_TAINT, T2)
    assert swapped is not None
    assert [(t.key, t.time_added) for t in swapped.spec.taints] == [
        ("dedicated", ""),
        (NOT_READY_TAINT, T1),
    ]
    cleared = with_taint(swapped, None, T2)
    assert cleared is not None
    assert [t.key for t in cleared.spec.taints] == ["dedicated"]
    assert with_taint(cleared, None, T2) is None
