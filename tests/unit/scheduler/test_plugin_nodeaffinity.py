"""NodeAffinity: spec.nodeSelector and required node affinity decide which nodes fit; preferred
terms rank them."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.framework.node_table import NodeTable
from scheduler.framework.types import CycleState
from scheduler.plugins import nodeaffinity
from tests.unit.scheduler.schedtest import node, node_affinity, node_info, pod

REASON = "node(s) didn't match Pod's node affinity/selector"
LABELS = {"zone": "a", "disk": "ssd", "cores": "8"}


def _expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values)}


@pytest.mark.parametrize(
    "the_pod, fits",
    [
        (pod(), True),
        (pod(node_selector={"zone": "a"}), True),
        (pod(node_selector={"zone": "a", "disk": "ssd"}), True),
        (pod(node_selector={"zone": "b"}), False),
        (pod(node_selector={"gpu": "true"}), False),
        (pod(affinity=node_affinity([_expr("zone", "In", "a", "b")])), True),
        (pod(affinity=node_affinity([_expr("zone", "In", "b", "c")])), False),
        (pod(affinity=node_affinity([_expr("zone", "NotIn", "b")])), True),
        (pod(affinity=node_affinity([_expr("zone", "NotIn", "a")])), False),
        (pod(affinity=node_affinity([_expr("gpu", "NotIn", "x")])), True),
        (pod(affinity=node_affinity([_expr("disk", "Exists")])), True),
        (pod(affinity=node_affinity([_expr("gpu", "Exists")])), False),
        (pod(affinity=node_affinity([_expr("gpu", "DoesNotExist")])), True),
        (pod(affinity=node_affinity([_expr("cores", "Gt", "4")])), True),
        (pod(affinity=node_affinity([_expr("cores", "Gt", "8")])), False),
        (pod(affinity=node_affinity([_expr("cores", "Lt", "16")])), True),
        (pod(affinity=node_affinity([_expr("zone", "Gt", "1")])), False),
        # Requirements of one term are ANDed, terms are ORed.
        (
            pod(affinity=node_affinity([_expr("zone", "In", "a"), _expr("disk", "In", "hdd")])),
            False,
        ),
        (
            pod(affinity=node_affinity([_expr("zone", "In", "b")], [_expr("disk", "In", "ssd")])),
            True,
        ),
        # Both the selector and the affinity must hold.
        (
            pod(node_selector={"zone": "b"}, affinity=node_affinity([_expr("disk", "Exists")])),
            False,
        ),
        (pod(affinity=node_affinity(fields=[_expr("metadata.name", "In", "node-1")])), True),
        (pod(affinity=node_affinity(fields=[_expr("metadata.name", "In", "node-2")])), False),
        (pod(affinity=node_affinity(fields=[_expr("metadata.name", "NotIn", "node-2")])), True),
        # Malformed terms match nothing.
        (pod(affinity=node_affinity([_expr("zone", "In")])), False),
        (pod(affinity=node_affinity([_expr("zone", "Exists", "a")])), False),
        (pod(affinity=node_affinity([_expr("zone", "Near", "a")])), False),
        (pod(affinity=node_affinity([])), False),
        (pod(affinity=node_affinity([_expr("zone", "In", "zz")], [])), False),
    ],
    ids=lambda v: "" if not isinstance(v, bool) else ("fits" if v else "rejected"),
)
def test_filter(the_pod: core_pb2.Pod, fits: bool) -> None:
    status = nodeaffinity.new({}).filter(
        CycleState(), the_pod, node_info(node("node-1", labels=LABELS))
    )
    assert status.is_success == fits
    if not fits:
        assert status.reasons == (REASON,)


def test_preferred_terms_rank_nodes() -> None:
    plugin = nodeaffinity.new({})
    the_pod = pod(
        affinity=node_affinity(
            preferred=[(20, [_expr("zone", "In", "a")]), (80, [_expr("disk", "In", "ssd")])]
        )
    )
    nodes = [
        node_info(node("both", labels={"zone": "a", "disk": "ssd"})),
        node_info(node("zone", labels={"zone": "a"})),
        node_info(node("disk", labels={"disk": "ssd"})),
        node_info(node("none")),
    ]
    state = CycleState()
    assert plugin.pre_score(state, the_pod, nodes).is_success
    scores = {n.name: plugin.score(state, the_pod, n)[0] for n in nodes}
    assert scores == {"both": 100, "zone": 20, "disk": 80, "none": 0}
    plugin.normalize_score(state, the_pod, scores)
    assert scores == {"both": 100, "zone": 20, "disk": 80, "none": 0}


def test_pods_without_preferences_skip_scoring() -> None:
    assert nodeaffinity.new({}).pre_score(CycleState(), pod(), []).is_skip


@pytest.mark.parametrize(
    "fields",
    [
        [_expr("metadata.name", "In", "node-2")],
        [_expr("metadata.name", "NotIn", "node-2")],
        [_expr("metadata.name", "In", "no-such-node")],
        [_expr("metadata.name", "In", "node-1", "node-2")],  # one value only: matches nothing
        [_expr("metadata.uid", "In", "node-2")],  # only metadata.name is a field
    ],
)
def test_match_fields_judged_for_the_whole_table_as_node_by_node(
    fields: list[dict[str, Any]],
) -> None:
    """The bulk verdict finds the named node by its row (a DaemonSet's pod at 5000 nodes);
    it must say what the per-node match says, for every node."""
    infos = [node_info(node(f"node-{i}", labels=LABELS)) for i in range(4)]
    required = nodeaffinity.RequiredNodeAffinity.of(pod(affinity=node_affinity(fields=fields)))
    table = NodeTable(infos)
    assert required.matches_table(table).tolist() == [required.matches(n) for n in infos]
