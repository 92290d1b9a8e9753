"""The order in which a controller with too many pods deletes them (controller_utils.go
ActivePodsWithRanks): each case names a pod that goes before another, whichever way they are
listed."""

from __future__ import annotations

import pytest

from controller.framework.pod_ordering import (
    DELETION_COST_ANNOTATION,
    order_for_deletion,
    pods_to_delete,
    ranks_by_colocation,
)
from podplane.api.core.v1 import core_pb2

OLD, NEW = "2026-11-21T10:00:00Z", "2026-11-21T12:00:00Z"


def pod(
    name: str,
    *,
    node: str = "node-1",
    phase: str = "Running",
    ready_since: str = "",
    restarts: int = 0,
    created: str = OLD,
    cost: str | None = None,
) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.name = name
    p.metadata.creation_timestamp = created
    if cost is not None:
        p.metadata.annotations[DELETION_COST_ANNOTATION] = cost
    p.spec.node_name = node
    p.status.phase = phase
    if ready_since:
        p.status.conditions.add(type="Ready", status="True", last_transition_time=ready_since)
    else:
        p.status.conditions.add(type="Ready", status="False", last_transition_time=OLD)
    p.status.container_statuses.add(name="c", restart_count=restarts)
    return p


CASES = [
    ("unscheduled before scheduled", pod("a", node="", phase="Pending"), pod("b", phase="Pending")),
    (
        "unscheduled before scheduled, whatever else",
        pod("a", node="", ready_since=OLD),
        pod("b", phase="Pending", restarts=9, created=NEW),
    ),
    ("Pending before Unknown", pod("a", phase="Pending"), pod("b", phase="Unknown")),
    ("Unknown before Running", pod("a", phase="Unknown"), pod("b", phase="Running")),
    ("no phase sorts as Pending", pod("a", phase=""), pod("b", phase="Unknown")),
    ("not ready before ready", pod("a"), pod("b", ready_since=OLD)),
    (
        "not ready before ready, however many restarts",
        pod("a", created=OLD),
        pod("b", ready_since=OLD, restarts=7, created=NEW),
    ),
    (
        "lower deletion cost first",
        pod("a", ready_since=OLD, cost="-5"),
        pod("b", ready_since=NEW, cost="10"),
    ),
    ("an invalid deletion cost counts as 0", pod("a", cost="cheap"), pod("b", cost="1")),
    ("ready for less time first", pod("a", ready_since=NEW), pod("b", ready_since=OLD)),
    ("more restarts first", pod("a", restarts=3), pod("b", restarts=1, created=NEW)),
    ("newer first", pod("a", created=NEW), pod("b", created=OLD)),
    ("unknown creation time first", pod("a", created=""), pod("b", created=NEW)),
]


@pytest.mark.parametrize(
    ("first", "second"), [(f, s) for _, f, s in CASES], ids=[c[0] for c in CASES]
)
def test_pairwise_order(first: core_pb2.Pod, second: core_pb2.Pod) -> None:
    for listed in ([first, second], [second, first]):
        assert [p.metadata.name for p in order_for_deletion(listed)] == ["a", "b"]


def test_a_doubled_up_node_loses_a_pod_first() -> None:
    crowded = [
        pod("crowded-1", node="node-1", created=OLD),
        pod("crowded-2", node="node-1", created=OLD),
    ]
    alone = pod("alone", node="node-2", created=NEW)  # newer, but alone on its node
    pods = [alone, *crowded]
    assert ranks_by_colocation(pods, pods) == [1, 2, 2]
    assert pods_to_delete(pods, pods, 1)[0].metadata.name.startswith("crowded-")


def test_ranks_count_the_siblings_pods_too() -> None:
    mine = [pod("a", node="node-1"), pod("b", node="node-2", created=NEW)]
    sibling = pod("other-rs", node="node-1")
    assert ranks_by_colocation(mine, [*mine, sibling]) == [2, 1]
    assert [p.metadata.name for p in pods_to_delete(mine, [*mine, sibling], 1)] == ["a"]


def test_rank_comes_after_readiness_and_before_age() -> None:
    pods = [
        pod("ready-crowded", ready_since=OLD),
        pod("ready-crowded-2", ready_since=OLD),
        pod("not-ready-alone", node="node-2", created=OLD),
        pod("ready-alone", node="node-3", ready_since=NEW, created=NEW),
    ]
    assert [p.metadata.name for p in pods_to_delete(pods, pods, 3)] == [
        "not-ready-alone",
        "ready-crowded",
        "ready-crowded-2",
    ]


def test_deleting_all_needs_no_order() -> None:
    pods = [pod("a"), pod("b", node="")]
    assert pods_to_delete(pods, pods, 5) == pods


def test_a_scale_down_by_kubernetes_rules() -> None:
    pods = [
        pod("running-ready-old", ready_since=OLD),
        pod("running-ready-new", ready_since=NEW, created=NEW),
        pod("running-not-ready"),
        pod("pending", phase="Pending"),
        pod("unscheduled", node="", phase="Pending"),
        pod("crashing", ready_since=OLD, restarts=5),
    ]
    ranked = order_for_deletion(pods)
    assert [p.metadata.name for p in ranked] == [
        "unscheduled",
        "pending",
        "running-not-ready",
        "running-ready-new",
        "crashing",
        "running-ready-old",
    ]
