"""Where preemption might help (kubernetes nodesWherePreemptionMightHelp): the nodes whose Filter
status is Unschedulable; an UnschedulableAndUnresolvable node, or one not judged when the
PreFilter turned the pod down with such a status, is not helpful."""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.framework.diagnosis import NodeToStatus
from scheduler.framework.preemption.evaluator import _by_code
from scheduler.framework.status import Status
from scheduler.framework.types import NodeInfo
from tests.unit.scheduler.schedtest import node, node_info

NODES = [node_info(node(f"n{i}")) for i in range(4)]
FULL = Status.unschedulable("Insufficient cpu")
TAINTED = Status.unresolvable("node(s) had untolerated taint {k: v}")


def names(nodes: Sequence[NodeInfo]) -> list[str]:
    return [n.name for n in nodes]


def test_every_node_judged_splits_by_code_in_the_nodes_order() -> None:
    statuses = NodeToStatus({"n3": FULL, "n0": TAINTED, "n1": FULL, "n2": TAINTED})
    potential, unresolvable = _by_code(NODES, statuses)
    assert names(potential) == ["n1", "n3"]
    assert sorted(unresolvable) == ["n0", "n2"]


def test_a_pre_filter_rejection_makes_every_node_unhelpful() -> None:
    potential, unresolvable = _by_code(NODES, NodeToStatus({}, TAINTED))
    assert potential == []
    assert unresolvable == ["n0", "n1", "n2", "n3"]


def test_nodes_not_judged_take_the_absent_status() -> None:
    potential, unresolvable = _by_code(NODES, NodeToStatus({"n0": TAINTED}, FULL))
    assert names(potential) == ["n1", "n2", "n3"]
    assert unresolvable == ["n0"]
