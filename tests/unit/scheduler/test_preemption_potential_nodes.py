"""Where preemption might help (kubernetes nodesWherePreemptionMightHelp): the nodes whose Filter
status is Unschedulable; an UnschedulableAndUnresolvable node, or one not judged when the
PreFilter turned the pod down with such a status, is not helpful (and counted)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scheduler.framework.diagnosis import (
    UNRESOLVABLE,
    BulkRejections,
    Diagnosis,
    NodeToStatus,
    fit_error_message,
)
from scheduler.framework.image_states import ImageStates
from scheduler.framework.node_table import NodeTable
from scheduler.framework.preemption.evaluator import _by_code
from scheduler.framework.snapshot import NodeInfoList
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
    assert unresolvable == 2


def test_a_pre_filter_rejection_makes_every_node_unhelpful() -> None:
    potential, unresolvable = _by_code(NODES, NodeToStatus({}, TAINTED))
    assert potential == []
    assert unresolvable == 4


def test_nodes_not_judged_take_the_absent_status() -> None:
    potential, unresolvable = _by_code(NODES, NodeToStatus({"n0": TAINTED}, FULL))
    assert names(potential) == ["n1", "n2", "n3"]
    assert unresolvable == 1


def bulk_of(table: NodeTable) -> BulkRejections:
    """n0 rejected in bulk as full, n2 as tainted."""
    return BulkRejections(table, np.array([2, 0]), np.array([1, 0]), [FULL, TAINTED])


def test_bulk_rejections_are_read_by_row_and_the_ones_judged_by_name_over_them() -> None:
    nodes = NodeInfoList(NODES, with_pod_affinity=[], image_states=ImageStates.of([]))
    statuses = NodeToStatus({"n3": FULL}, bulk=bulk_of(nodes.table))
    potential, unresolvable = _by_code(nodes, statuses)
    assert names(potential) == ["n0", "n3"]
    assert unresolvable == 2  # n2 tainted, n1 absent
    assert statuses.get("n0") is FULL and statuses.get("n2") is TAINTED
    assert statuses.get("n1") is UNRESOLVABLE


def test_bulk_rejections_of_another_table_are_read_by_name() -> None:
    statuses = NodeToStatus({"n3": FULL}, bulk=bulk_of(NodeTable(NODES)))
    potential, unresolvable = _by_code(NODES, statuses)
    assert names(potential) == ["n0", "n3"]
    assert unresolvable == 2


def test_the_message_counts_bulk_named_and_unnamed_nodes_alike() -> None:
    diagnosis = Diagnosis(
        node_to_status={"n3": FULL},
        bulk=bulk_of(NodeTable(NODES)),
        unnamed=[(TAINTED, 3)],
    )
    assert diagnosis.num_rejected() == 3
    assert fit_error_message(7, diagnosis) == (
        "0/7 nodes are available: 2 Insufficient cpu, 4 node(s) had untolerated taint {k: v}."
    )
