"""TaintToleration: untolerated NoSchedule/NoExecute taints filter a node out; PreferNoSchedule
taints only lower its score."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from scheduler.framework.node_table import NodeTable, TableRows
from scheduler.framework.types import CycleState
from scheduler.plugins import tainttoleration
from tests.unit.scheduler.schedtest import node, node_info, pod

GPU_TAINT = {"key": "gpu", "value": "true", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    "taints, tolerations, reason",
    [
        ([], [], None),
        ([GPU_TAINT], [], "node(s) had untolerated taint {gpu: true}"),
        ([GPU_TAINT], [{"key": "gpu", "value": "true", "effect": "NoSchedule"}], None),
        ([GPU_TAINT], [{"key": "gpu", "operator": "Equal", "value": "true"}], None),
        ([GPU_TAINT], [{"key": "gpu", "operator": "Exists"}], None),
        (
            [GPU_TAINT],
            [{"key": "gpu", "value": "false"}],
            "node(s) had untolerated taint {gpu: true}",
        ),
        (
            [GPU_TAINT],
            [{"key": "gpu", "operator": "Exists", "effect": "NoExecute"}],
            "node(s) had untolerated taint {gpu: true}",
        ),
        ([GPU_TAINT], [{"operator": "Exists"}], None),
        (
            [{"key": "dedicated", "effect": "NoExecute"}],
            [],
            "node(s) had untolerated taint {dedicated: }",
        ),
        ([{"key": "soft", "value": "x", "effect": "PreferNoSchedule"}], [], None),
        (
            [GPU_TAINT, {"key": "zone", "value": "a", "effect": "NoSchedule"}],
            [{"key": "gpu", "operator": "Exists"}],
            "node(s) had untolerated taint {zone: a}",
        ),
        (
            [GPU_TAINT],
            [{"key": "gpu", "operator": "Bogus"}],
            "node(s) had untolerated taint {gpu: true}",
        ),
    ],
    ids=[
        "no-taints",
        "untolerated",
        "exact",
        "equal-no-effect",
        "exists",
        "wrong-value",
        "wrong-effect",
        "tolerate-all",
        "noexecute",
        "prefer-no-schedule-passes",
        "second-taint-untolerated",
        "unknown-operator",
    ],
)
def test_filter(
    taints: list[dict[str, str]], tolerations: list[dict[str, str]], reason: str | None
) -> None:
    status = tainttoleration.new({}).filter(
        CycleState(), pod(tolerations=tolerations), node_info(node(taints=taints))
    )
    assert status.reasons == ((reason,) if reason else ())


def test_score_prefers_nodes_with_fewer_untolerated_prefer_no_schedule_taints() -> None:
    plugin = tainttoleration.new({})
    soft = {"effect": "PreferNoSchedule"}
    nodes = [
        node_info(node("clean")),
        node_info(node("one", taints=[{"key": "a", **soft}])),
        node_info(node("two", taints=[{"key": "a", **soft}, {"key": "b", **soft}])),
        node_info(node("tolerated", taints=[{"key": "c", **soft}])),
    ]
    the_pod = pod(tolerations=[{"key": "c", "operator": "Exists", "effect": "PreferNoSchedule"}])
    state = CycleState()
    assert plugin.pre_score(state, the_pod, nodes).is_success
    scores = {n.name: plugin.score(state, the_pod, n)[0] for n in nodes}
    assert scores == {"clean": 0, "one": 1, "two": 2, "tolerated": 0}
    assert plugin.normalize_score(state, the_pod, scores).is_success
    assert scores == {"clean": 100, "one": 50, "two": 0, "tolerated": 100}


def test_score_without_taints_is_max_everywhere() -> None:
    plugin, state, the_pod = tainttoleration.new({}), CycleState(), pod()
    nodes = [node_info(node("a")), node_info(node("b"))]
    plugin.pre_score(state, the_pod, nodes)
    scores: dict[str, Any] = {n.name: plugin.score(state, the_pod, n)[0] for n in nodes}
    plugin.normalize_score(state, the_pod, scores)
    assert scores == {"a": 100, "b": 100}


def test_pre_score_over_a_tables_rows_looks_only_at_those_nodes_taints() -> None:
    """The feasible nodes of an attempt come as rows of the snapshot's NodeTable: PreScore reads
    their distinct taint lists from it, and scores only when one of them has a PreferNoSchedule
    taint."""
    plugin = tainttoleration.new({})
    soft = {"key": "a", "effect": "PreferNoSchedule"}
    hard = {"key": "k", "value": "v", "effect": "NoSchedule"}
    table = NodeTable(
        [
            node_info(node("clean")),
            node_info(node("soft", taints=[soft])),
            node_info(node("hard", taints=[hard])),
            node_info(node("soft-2", taints=[soft])),
        ]
    )
    with_soft = TableRows(table, np.array([0, 3], np.int64))
    without_soft = TableRows(table, np.array([0, 2], np.int64))
    assert plugin.pre_score(CycleState(), pod(), with_soft).is_success
    assert plugin.pre_score(CycleState(), pod(), without_soft).is_skip


def test_pre_score_in_a_cluster_without_prefer_no_schedule_taints_skips_unread_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No node of the table has a PreferNoSchedule taint: PreScore skips on the table's distinct
    lists, without gathering the feasible rows' (asked of every pod scheduled)."""
    plugin = tainttoleration.new({})
    hard = {"key": "k", "value": "v", "effect": "NoSchedule"}
    table = NodeTable([node_info(node("clean")), node_info(node("hard", taints=[hard]))])

    def unread(nodes: object) -> list[object]:
        raise AssertionError("the rows' taint lists were gathered")

    monkeypatch.setattr(tainttoleration, "taint_lists", unread)
    assert plugin.pre_score(CycleState(), pod(), TableRows(table, np.array([0, 1]))).is_skip
