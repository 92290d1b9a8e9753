"""The plugins that judge nodes in bulk (over the NodeTable's columns) decide exactly as they do one
node at a time: the same node for every pod, the same rejection messages, the same scores, while
the cache's table follows the pods assumed and the nodes updated between decisions."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podplane.api.core.v1 import core_pb2
from scheduler.algorithm import ScheduleResult, SchedulingAlgorithm
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.framework.node_table import NodeTable, Verdict
from scheduler.framework.runtime import Framework
from scheduler.framework.snapshot import node_table
from scheduler.framework.types import CycleState
from scheduler.plugins import default_profile, in_tree_registry
from tests.unit.scheduler.placementtest import labeled, with_spread
from tests.unit.scheduler.schedtest import container, node, node_affinity, node_info, pod

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, database=None)
GPU = "example.com/gpu"
TAINTS = [
    {"key": "k", "value": "v", "effect": "NoSchedule"},
    {"key": "soft", "value": "s", "effect": "PreferNoSchedule"},
    {"key": "x", "value": "y", "effect": "NoExecute"},
]
REQUIREMENTS: list[dict[str, Any]] = [
    {"key": "zone", "operator": "In", "values": ["a", "c"]},
    {"key": "zone", "operator": "NotIn", "values": ["a"]},
    {"key": "zone", "operator": "Exists"},
    {"key": "size", "operator": "DoesNotExist"},
    {"key": "size", "operator": "Gt", "values": ["5"]},
    {"key": "size", "operator": "Lt", "values": ["5"]},
    {"key": "zone", "operator": "In", "values": []},
]  # malformed: matches nothing
TOLERATIONS = [
    {"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"},
    {"key": "soft", "operator": "Exists"},
    {"operator": "Exists"},
]


@st.composite
def node_shapes(draw: st.DrawFn) -> dict[str, Any]:
    zone = draw(st.sampled_from(["a", "b", "c", None]))
    if draw(st.booleans()):  # a node any pod fits, so that the later filters get their say
        return {
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"},
            "labels": {"zone": zone} if zone else {},
        }
    allocatable = {
        "cpu": draw(st.sampled_from(["0", "500m", "2", "4"])),
        "memory": draw(st.sampled_from(["0", "1Gi", "8Gi"])),
        "pods": draw(st.sampled_from(["0", "2", "110"])),
    }
    if draw(st.booleans()):
        allocatable[GPU] = draw(st.sampled_from(["0", "1", "4"]))
    labels = {
        k: v
        for k, v in (
            ("zone", draw(st.sampled_from(["a", "b", "c", None]))),
            ("size", draw(st.sampled_from(["1", "10", "x", None]))),
        )
        if v is not None
    }
    return {
        "allocatable": allocatable,
        "labels": labels,
        "taints": draw(st.lists(st.sampled_from(TAINTS), max_size=2, unique_by=str)),
        "unschedulable": draw(st.integers(0, 5)) == 0,
        "ready": draw(st.sampled_from(["True", "True", "True", "False", None])),
    }


@st.composite
def pod_shapes(draw: st.DrawFn) -> dict[str, Any]:
    requests = {
        k: v
        for k, v in (
            ("cpu", draw(st.sampled_from(["", "100m", "1", "3"]))),
            ("memory", draw(st.sampled_from(["", "512Mi", "4Gi"]))),
        )
        if v
    }
    if draw(st.integers(0, 4)) == 0:
        requests[GPU] = "1"
    init = draw(st.sampled_from([(), ({"cpu": "2"},)]))
    shape: dict[str, Any] = {
        "containers": [container(requests=requests)],
        "init_containers": [container(f"init-{i}", requests=r) for i, r in enumerate(init)],
        "tolerations": draw(st.lists(st.sampled_from(TOLERATIONS), max_size=2, unique_by=str)),
    }
    if draw(st.booleans()):
        shape["labels"] = {"app": "web"}
    if draw(st.integers(0, 2)) == 0:
        shape["spread"] = {
            "key": draw(st.sampled_from(["zone", "kubernetes.io/hostname"])),
            "max_skew": draw(st.integers(1, 2)),
            "when": draw(st.sampled_from(["DoNotSchedule", "ScheduleAnyway"])),
            "match": {"app": "web"},
        }
    if draw(st.integers(0, 5)) == 0:  # NodeName, judged node by node, filters before the others
        shape["node_name"] = "node-001"
    if draw(st.integers(0, 3)) == 0:
        shape["node_selector"] = {"zone": draw(st.sampled_from(["a", "b", "z"]))}
    if draw(st.integers(0, 3)) == 0:
        terms: list[list[dict[str, Any]]] = draw(
            st.lists(st.lists(st.sampled_from(REQUIREMENTS), max_size=2), min_size=1, max_size=2)
        )
        fields = draw(
            st.sampled_from(
                [(), ({"key": "metadata.name", "operator": "In", "values": ["node-001"]},)]
            )
        )
        shape["affinity"] = node_affinity(*terms, fields=fields)
    return shape


def _pod(name: str, shape: dict[str, Any]) -> Any:
    shape = dict(shape)
    labels, spread = shape.pop("labels", {}), shape.pop("spread", None)
    p = labeled(pod(name, **shape), **labels)
    return with_spread(p, **spread) if spread else p


def _cluster(shapes: Sequence[dict[str, Any]], size: int, running: Sequence[dict[str, Any]]) -> Any:
    """`size` nodes cycling through the shapes, each running one pod of `running` in turn."""
    nodes = [node(f"node-{i:03}", **shapes[i % len(shapes)]) for i in range(size)]
    pods = []
    for i, shape in enumerate(running):
        p = _pod(f"running-{i}", shape)
        p.spec.node_name = nodes[(i * 7) % size].metadata.name
        pods.append(p)
    return nodes, pods


def _cache(nodes: Sequence[Any], pods: Sequence[Any]) -> SchedulerCache:
    cache = SchedulerCache()
    for n in nodes:
        cache.add_node(n)
    for p in pods:
        cache.add_pod(p)
    return cache


Decider = tuple[SchedulingAlgorithm, SchedulerCache]


def _deciders(nodes: Sequence[Any], pods: Sequence[Any], seed: int) -> list[Decider]:
    """The same cluster twice, the first judged in bulk, the second one node at a time."""
    return [
        (
            SchedulingAlgorithm(
                Framework(in_tree_registry(), default_profile(), bulk=bulk), random.Random(seed)
            ),
            _cache(nodes, pods),
        )
        for bulk in (True, False)
    ]


def _schedule(decider: Decider, p: core_pb2.Pod) -> ScheduleResult:
    """Schedules `p` and, if it fits, assumes it on the node chosen, as the scheduler's loop
    does."""
    algorithm, cache = decider
    result = algorithm.schedule(p, cache.node_infos())
    if result.status.is_success:
        assumed = core_pb2.Pod()
        assumed.CopyFrom(p)
        assumed.spec.node_name = result.node_name
        cache.assume_pod(assumed)
    return result


@PROPERTY
@given(
    shapes=st.lists(node_shapes(), min_size=1, max_size=8),
    size=st.sampled_from([1, 5, 37, 130]),  # 130: only part of the nodes is searched
    running=st.lists(pod_shapes(), max_size=12),
    pending=st.lists(pod_shapes(), min_size=1, max_size=25),
    seed=st.integers(0, 3),
)
def test_bulk_and_one_node_at_a_time_make_the_same_decisions(
    shapes: list[dict[str, Any]],
    size: int,
    running: list[dict[str, Any]],
    pending: list[dict[str, Any]],
    seed: int,
) -> None:
    nodes, pods = _cluster(shapes, size, running)
    deciders = _deciders(nodes, pods, seed)
    for i, shape in enumerate(pending):
        p = _pod(f"pending-{i}", shape)
        results = []
        for decider in deciders:
            result = _schedule(decider, p)
            results.append(
                (
                    result.node_name,
                    result.status.code,
                    result.status.message,
                    result.evaluated_nodes,
                    result.feasible_nodes,
                )
            )
        assert results[0] == results[1], f"pending-{i}"
        if i == len(pending) // 2:  # a node changes under the table: cordoned, then back
            for _, cache in deciders:
                cordoned = core_pb2.Node()
                cordoned.CopyFrom(nodes[0])
                cordoned.spec.unschedulable = not cordoned.spec.unschedulable
                cache.update_node(cordoned)


@pytest.mark.parametrize("key,max_skew", [("zone", 1), ("zone", 2), ("kubernetes.io/hostname", 1)])
def test_spread_pods_land_alike(key: str, max_skew: int) -> None:
    """PodTopologySpread's bulk PreFilter counts and Filter verdicts place a spread group as its
    per-node path does, one node missing its zone label. Zone a's nodes are the roomiest, so the
    scores pull every pod there and only the spread's counts keep them out."""
    nodes = [
        node(
            f"node-{i}",
            cpu="64" if i % 3 == 0 else "4",
            labels={"zone": "abc"[i % 3]} if i != 7 else {},
        )
        for i in range(10)
    ]
    deciders = _deciders(nodes, [], 3)
    domain_of = {n.metadata.name: n.metadata.labels.get(key) for n in nodes}
    placed = dict.fromkeys((d for d in domain_of.values() if d is not None), 0)
    for i in range(14):
        p = with_spread(
            labeled(pod(f"web-{i}", cpu="100m"), app="web"),
            key=key,
            max_skew=max_skew,
            match={"app": "web"},
        )
        results = [
            (result.node_name, result.status.message, result.evaluated_nodes)
            for result in (_schedule(decider, p) for decider in deciders)
        ]
        assert results[0] == results[1] and results[0][0], f"web-{i}"
        domain = domain_of[results[0][0]]
        assert domain is not None, f"web-{i} went to a node without the {key} label"
        placed[domain] += 1
        assert max(placed.values()) - min(placed.values()) <= max_skew, placed


def test_two_spreads_with_and_without_node_affinity_land_alike() -> None:
    """Two constraints, over zones and racks, with a node lacking its zone and two their rack;
    every third pod also restricted to zones a and b by required node affinity. The bulk
    PreFilter keeps each domain's count with the table for the pods without affinity and counts
    afresh for the others: both place every pod as the per-node path does, on nodes with both
    keys, zones a and b (which every pod counts) within 1 of each other and racks within 2."""
    nodes = [
        node(
            f"node-{i}",
            cpu="64" if i % 4 == 0 else "8",
            labels={
                **({"zone": "abc"[i % 3]} if i != 7 else {}),
                **({"rack": f"r{i % 2}"} if i not in (5, 8) else {}),
            },
        )
        for i in range(12)
    ]
    deciders = _deciders(nodes, [], 5)
    labels_of = {n.metadata.name: n.metadata.labels for n in nodes}
    placed: dict[tuple[str, str], int] = {}
    for i in range(24):
        p = labeled(pod(f"web-{i}", cpu="100m"), app="web")
        with_spread(p, key="zone", match={"app": "web"})
        with_spread(p, key="rack", max_skew=2, match={"app": "web"})
        if i % 3 == 2:
            p.spec.affinity.CopyFrom(
                node_affinity([{"key": "zone", "operator": "In", "values": ["a", "b"]}])
            )
        results = [
            (result.node_name, result.status.message)
            for result in (_schedule(decider, p) for decider in deciders)
        ]
        assert results[0] == results[1] and results[0][0], f"web-{i}: {results}"
        labels = labels_of[results[0][0]]
        assert "zone" in labels and "rack" in labels, f"web-{i} went to {results[0][0]}"
        for key in ("zone", "rack"):
            placed[(key, labels[key])] = placed.get((key, labels[key]), 0) + 1
    assert abs(placed[("zone", "a")] - placed[("zone", "b")]) <= 1, placed
    assert abs(placed[("rack", "r0")] - placed[("rack", "r1")]) <= 2, placed


def test_a_large_cluster_is_searched_from_where_the_last_search_stopped_alike() -> None:
    """Above 100 nodes only part of them is searched per pod, each search starting where the last
    one stopped: bulk or not, the searches cover the same nodes."""
    roomy = {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"}}
    shapes = [roomy] * 9 + [{**roomy, "unschedulable": True}]
    nodes, _ = _cluster(shapes, 250, [])
    deciders = _deciders(nodes, [], 1)
    for i in range(30):
        p = pod(f"pending-{i}", cpu="100m")
        picked = [algorithm.schedule(p, cache.node_infos()) for algorithm, cache in deciders]
        assert picked[0].feasible_nodes == 120 and 132 <= picked[0].evaluated_nodes <= 134
        assert [(r.node_name, r.evaluated_nodes) for r in picked] == [
            (picked[0].node_name, picked[0].evaluated_nodes)
        ] * 2
        assert deciders[0][0]._next_start_node_index == deciders[1][0]._next_start_node_index


@PROPERTY
@given(
    shapes=st.lists(node_shapes(), min_size=1, max_size=12),
    running=st.lists(pod_shapes(), max_size=12),
    incoming=pod_shapes(),
)
def test_bulk_filters_mark_only_nodes_their_filter_passes_and_bulk_scores_equal_scores(
    shapes: list[dict[str, Any]], running: list[dict[str, Any]], incoming: dict[str, Any]
) -> None:
    nodes, pods = _cluster(shapes, len(shapes), running)
    infos = [node_info(n, *[p for p in pods if p.spec.node_name == n.metadata.name]) for n in nodes]
    table = NodeTable(infos)
    framework = Framework(in_tree_registry(), default_profile())
    p = _pod("incoming", incoming)
    state = CycleState()
    assert not framework.run_pre_filter(state, p).is_error
    for name in (
        "NodeUnschedulable",
        "NodeReady",
        "TaintToleration",
        "NodeResourcesFit",
        "NodeAffinity",
        "PodTopologySpread",
    ):
        if name in state.skip_filter:
            continue
        plugin: Any = framework.plugins[name]
        verdict = plugin.filter_table(state, p, table)
        if verdict is None:
            continue
        verdict = verdict if isinstance(verdict, Verdict) else Verdict(verdict)
        statuses = [plugin.filter(state, p, info) for info in infos]
        assert all(statuses[row].is_success for row in np.flatnonzero(verdict.passing)), name
        for rejected, status in verdict.rejected:
            assert all(statuses[row] == status for row in np.flatnonzero(rejected)), name
    assert framework.run_pre_score(state, p, infos).is_success
    rows = np.arange(len(infos))
    for name in ("NodeResourcesFit", "NodeResourcesBalancedAllocation"):
        if name in state.skip_score:
            continue
        plugin = framework.plugins[name]
        bulk = plugin.score_table(state, p, table, rows)
        one_by_one = [plugin.score(state, p, info)[0] for info in infos]
        assert bulk is not None and bulk.tolist() == one_by_one, name


def test_the_common_case_is_judged_in_bulk_alone() -> None:
    """Fitting, untainted, ready nodes are marked by the bulk filters; those they do not mark are
    the ones the filters reject."""
    infos = [
        node_info(node("fits")),
        node_info(node("full", cpu="1"), pod(cpu="1")),
        node_info(node("cordoned", unschedulable=True)),
        node_info(node("down", ready="False")),
        node_info(node("tainted", taints=[TAINTS[0]])),
    ]
    framework = Framework(in_tree_registry(), default_profile())
    p, state = pod(cpu="500m"), CycleState()
    framework.run_pre_filter(state, p)
    marked = framework.run_filter_table(state, p, NodeTable(infos)).passing
    assert marked.tolist() == [True, False, False, False, False]
    assert [f for f, _ in state.remaining_filters or []] == []
    assert [framework.run_filter(state, p, i).message for i in infos] == [
        "",
        "Insufficient cpu",
        "node(s) were unschedulable",
        "node(s) were not ready",
        "node(s) had untolerated taint {k: v}",
    ]


def test_the_caches_table_follows_assumed_pods_and_node_updates() -> None:
    cache = _cache([node("a", cpu="4"), node("b", cpu="4")], [])
    table = node_table(cache.node_infos())
    p = pod("p", cpu="3")
    p.spec.node_name = "b"
    cache.assume_pod(p)
    assert node_table(cache.node_infos()) is table
    assert table.requested_milli_cpu.tolist() == [0, 3000] and table.pod_count.tolist() == [0, 1]
    cache.forget_pod(p)
    cordoned = node("a", cpu="8", unschedulable=True)
    cache.update_node(cordoned)
    assert node_table(cache.node_infos()) is table
    assert table.requested_milli_cpu.tolist() == [0, 0]
    assert table.allocatable_milli_cpu.tolist() == [8000, 4000]
    assert table.unschedulable.tolist() == [True, False]


def test_the_fit_verdict_kept_with_the_table_follows_the_nodes_pods_go_to() -> None:
    """NodeResourcesFit's codes are kept with the table for a request: the next pod asking the
    same is judged on the rows rewritten since (the node the last one went to) worked out anew."""
    cache = _cache([node("a", cpu="4"), node("b", cpu="4")], [])
    framework = Framework(in_tree_registry(), default_profile())
    plugin: Any = framework.plugins["NodeResourcesFit"]

    def verdict(p: core_pb2.Pod) -> tuple[list[bool], list[tuple[list[bool], str]]]:
        state = CycleState()
        framework.run_pre_filter(state, p)
        v = plugin.filter_table(state, p, node_table(cache.node_infos()))
        return v.passing.tolist(), [(r.tolist(), s.message) for r, s in v.rejected]

    assert verdict(pod("p1", cpu="3")) == ([True, True], [])
    placed = pod("p1", cpu="3")
    placed.spec.node_name = "b"
    cache.assume_pod(placed)
    assert verdict(pod("p2", cpu="3")) == ([True, False], [([False, True], "Insufficient cpu")])
    cache.forget_pod(placed)
    assert verdict(pod("p3", cpu="3")) == ([True, True], [])
