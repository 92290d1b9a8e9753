"""PodTopologySpread: DoNotSchedule filters out nodes whose domain would exceed maxSkew over the
emptiest domain; ScheduleAnyway prefers emptier domains; nodes without the topology key, pods of
other namespaces and terminating pods count as Kubernetes counts them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.framework.runtime import Framework
from scheduler.framework.status import Code
from scheduler.framework.types import CycleState, PodInfo
from scheduler.plugins import default_profile, in_tree_registry, podtopologyspread
from tests.unit.scheduler import placementtest as pt

WEB = {"app": "web"}
NOT_MATCH = "node(s) didn't match pod topology spread constraints"
MISSING_LABEL = NOT_MATCH + " (missing required label)"


def web(name: str, **kw: Any) -> core_pb2.Pod:
    return pt.pod(name, WEB, **kw)


def terminating(p: core_pb2.Pod) -> core_pb2.Pod:
    p.metadata.deletion_timestamp = "2026-01-01T00:00:00Z"
    return p


@pytest.mark.parametrize(
    "nodes, incoming, fits",
    [
        ([("a", 0), ("b", 0)], {}, {"n-a", "n-b"}),
        ([("a", 1), ("b", 0)], {}, {"n-b"}),
        ([("a", 1), ("b", 1)], {}, {"n-a", "n-b"}),
        ([("a", 1), ("b", 0)], {"max_skew": 2}, {"n-a", "n-b"}),
        ([("a", 2), ("b", 1), ("c", 0)], {}, {"n-c"}),
        # Fewer domains than minDomains: the global minimum counts as 0.
        ([("a", 1), ("b", 1)], {"min_domains": 3}, set()),
        ([("a", 1), ("b", 1)], {"min_domains": 2}, {"n-a", "n-b"}),
        ([("a", 0), ("b", 0)], {"key": "kubernetes.io/hostname"}, {"n-a", "n-b"}),
    ],
    ids=[
        "empty",
        "skewed",
        "even",
        "max-skew-2",
        "three-zones",
        "min-domains-unmet",
        "min-domains-met",
        "hostname",
    ],
)
def test_do_not_schedule_keeps_the_skew(
    nodes: list[tuple[str, int]], incoming: dict[str, Any], fits: set[str]
) -> None:
    infos = pt.cluster(
        *((pt.zone_node(f"n-{z}", z), [web(f"{z}{i}") for i in range(n)]) for z, n in nodes)
    )
    statuses = pt.filter_all(
        podtopologyspread.new({}), pt.with_spread(web("new"), match=WEB, **incoming), infos
    )
    assert {name for name, s in statuses.items() if s.is_success} == fits
    for s in statuses.values():
        if not s.is_success:
            assert s.reasons == (NOT_MATCH,) and s.code is Code.UNSCHEDULABLE


def test_a_pod_its_selector_does_not_match_adds_no_skew() -> None:
    infos = pt.cluster((pt.zone_node("n-a", "a"), [web("a0")]), (pt.zone_node("n-b", "b"), []))
    other = pt.with_spread(pt.pod("other", {"app": "db"}), match=WEB)
    assert all(
        s.is_success for s in pt.filter_all(podtopologyspread.new({}), other, infos).values()
    )


def test_a_node_without_the_topology_key_is_unresolvable() -> None:
    infos = pt.cluster((pt.zone_node("n-a", "a"), []), (pt.zone_node("bare"), []))
    statuses = pt.filter_all(
        podtopologyspread.new({}), pt.with_spread(web("new"), match=WEB), infos
    )
    assert statuses["n-a"].is_success
    assert statuses["bare"].reasons == (MISSING_LABEL,)
    assert statuses["bare"].code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE


@pytest.mark.parametrize(
    "extra",
    [
        web("elsewhere", namespace="other"),
        terminating(web("leaving")),
        pt.pod("db", {"app": "db"}),
    ],
    ids=["other-namespace", "terminating", "not-selected"],
)
def test_pods_that_do_not_count(extra: core_pb2.Pod) -> None:
    infos = pt.cluster((pt.zone_node("n-a", "a"), [extra, extra]), (pt.zone_node("n-b", "b"), []))
    statuses = pt.filter_all(
        podtopologyspread.new({}), pt.with_spread(web("new"), match=WEB), infos
    )
    assert statuses["n-a"].is_success


def test_nodes_the_pod_cannot_use_are_not_domains() -> None:
    """nodeAffinityPolicy Honor: zone b is not a domain for a pod that selects disk=ssd."""
    infos = pt.cluster(
        (pt.zone_node("n-a", "a", disk="ssd"), [web("a0")]),
        (pt.zone_node("n-b", "b", disk="hdd"), []),
    )
    incoming = pt.with_spread(web("new", node_selector={"disk": "ssd"}), match=WEB)
    assert pt.filter_all(podtopologyspread.new({}), incoming, infos)["n-a"].is_success


def test_a_pod_without_constraints_skips_the_plugin() -> None:
    plugin = podtopologyspread.new({})
    assert plugin.pre_filter(CycleState(), web("plain")).is_skip
    assert plugin.pre_score(CycleState(), web("plain"), []).is_skip
    soft_only = pt.with_spread(web("soft"), when="ScheduleAnyway", match=WEB)
    assert plugin.pre_filter(CycleState(), soft_only).is_skip


@pytest.mark.parametrize(
    "nodes, expected",
    [
        ([("a", 2), ("b", 0)], {"n-a": 0, "n-b": 100}),
        ([("a", 1), ("b", 1)], {"n-a": 100, "n-b": 100}),
        ([("a", 0), ("b", 0)], {"n-a": 100, "n-b": 100}),
        ([("a", 2), ("b", 1), ("c", 0)], {"n-a": 0, "n-b": 33, "n-c": 100}),
        ([("a", 1), (None, 0)], {"n-a": 100, "n-None": 0}),
    ],
    ids=["skewed", "even", "empty", "three-zones", "missing-key-ignored"],
)
def test_schedule_anyway_prefers_emptier_domains(
    nodes: list[tuple[str | None, int]], expected: dict[str, int]
) -> None:
    infos = pt.cluster(
        *((pt.zone_node(f"n-{z}", z), [web(f"{z}{i}") for i in range(n)]) for z, n in nodes)
    )
    incoming = pt.with_spread(web("new"), when="ScheduleAnyway", match=WEB)
    assert pt.score_all(podtopologyspread.new({}), incoming, infos) == expected


def test_six_replicas_over_three_zones_spread_two_each() -> None:
    """One decision after another, each counting the pods placed before it."""
    infos = pt.cluster(*((pt.zone_node(f"n-{z}{i}", z), []) for z in "abc" for i in (1, 2)))
    algorithm = pt.algorithm(Framework(in_tree_registry(), default_profile()))
    for i in range(6):
        replica = pt.with_spread(web(f"web-{i}"), match=WEB)
        result = algorithm.schedule(replica, infos)
        assert result.status.is_success, result.status
        chosen = next(n for n in infos if n.name == result.node_name)
        replica.spec.node_name = chosen.name
        chosen.add_pod(PodInfo.of(replica))
    zones = Counter(n.labels["zone"] for n in infos for _ in n.pods)
    assert zones == {"a": 2, "b": 2, "c": 2}


def test_system_default_constraints_are_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError, match="defaultingType System"):
        podtopologyspread.new({"defaultingType": "System"})


def test_a_nodes_counts_follow_its_pods_as_they_come_and_go() -> None:
    """Counts are kept per node between attempts (PreFilter asks every node each time), so they
    must change with the node's pods."""
    [node] = pt.cluster((pt.zone_node("n-a", "a"), [web("w1")]))
    [spread] = podtopologyspread.constraints(
        pt.with_spread(web("in"), match=WEB), podtopologyspread.DO_NOT_SCHEDULE
    )
    namespace = web("in").metadata.namespace
    assert podtopologyspread.count_matching(node, spread, namespace) == 1
    second = PodInfo.of(web("w2"))
    node.add_pod(second)
    node.add_pod(PodInfo.of(pt.pod("other", {"app": "db"})))
    assert podtopologyspread.count_matching(node, spread, namespace) == 2
    node.remove_pod(second.uid)
    assert podtopologyspread.count_matching(node, spread, namespace) == 1
    node.add_pod(PodInfo.of(terminating(web("w3"))))
    assert podtopologyspread.count_matching(node, spread, namespace) == 1
