"""InterPodAffinity: required affinity and anti-affinity by topology key, label selector and
namespaces; existing pods' anti-affinity against the incoming pod; the first pod of a self-affine
group; preferred terms scored by weight; and no cost for pods and clusters without such terms."""

from __future__ import annotations

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.framework.status import Code
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins import interpodaffinity
from scheduler.plugins.helper.pod_affinity_terms import pod_terms
from tests.unit.scheduler import placementtest as pt

AFFINITY = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
HOST = "kubernetes.io/hostname"
WEB, DB = {"app": "web"}, {"app": "db"}


def three_nodes(**pods_on: list[core_pb2.Pod]) -> list[NodeInfo]:
    """n1 and n2 in zone a, n3 in zone b, with pods_on[name] placed."""
    return pt.cluster(
        *(
            (pt.zone_node(name, zone), pods_on.get(name, []))
            for name, zone in (("n1", "a"), ("n2", "a"), ("n3", "b"))
        )
    )


def results(incoming: core_pb2.Pod, nodes: list[NodeInfo]) -> dict[str, str]:
    """Node name -> "" when it fits, else its one reason."""
    statuses = pt.filter_all(interpodaffinity.new({}), incoming, nodes)
    return {name: "" if s.is_success else s.reasons[0] for name, s in statuses.items()}


@pytest.mark.parametrize(
    "pods_on, incoming, expected",
    [
        (
            {"n1": [pt.pod("db", DB)]},
            pt.with_affinity(pt.pod("p"), required=[pt.term(match=DB)]),
            {"n1": "", "n2": AFFINITY, "n3": AFFINITY},
        ),
        (
            {"n1": [pt.pod("db", DB)]},
            pt.with_affinity(pt.pod("p"), required=[pt.term("zone", match=DB)]),
            {"n1": "", "n2": "", "n3": AFFINITY},
        ),
        (
            {},
            pt.with_affinity(pt.pod("p", WEB), required=[pt.term("zone", match=WEB)]),
            {"n1": "", "n2": "", "n3": ""},
        ),
        (
            {},
            pt.with_affinity(pt.pod("p"), required=[pt.term("zone", match=DB)]),
            {"n1": AFFINITY, "n2": AFFINITY, "n3": AFFINITY},
        ),
        (
            {},
            pt.with_affinity(pt.pod("p", WEB), required=[pt.term("rack", match=WEB)]),
            {"n1": AFFINITY, "n2": AFFINITY, "n3": AFFINITY},
        ),
        (
            {"n1": [pt.pod("w", WEB)]},
            pt.with_affinity(pt.pod("p", WEB), anti=[pt.term(match=WEB)]),
            {"n1": ANTI_AFFINITY, "n2": "", "n3": ""},
        ),
        (
            {"n1": [pt.pod("w", WEB)]},
            pt.with_affinity(pt.pod("p", WEB), anti=[pt.term("zone", match=WEB)]),
            {"n1": ANTI_AFFINITY, "n2": ANTI_AFFINITY, "n3": ""},
        ),
        (
            {"n1": [pt.with_affinity(pt.pod("w", WEB), anti=[pt.term(match=WEB)])]},
            pt.pod("p", WEB),
            {"n1": EXISTING_ANTI_AFFINITY, "n2": "", "n3": ""},
        ),
        (
            {"n1": [pt.with_affinity(pt.pod("w", WEB), anti=[pt.term(match=WEB)])]},
            pt.pod("p", DB),
            {"n1": "", "n2": "", "n3": ""},
        ),
        (
            {"n1": [pt.pod("db", DB, namespace="other")]},
            pt.with_affinity(pt.pod("p"), required=[pt.term(match=DB)]),
            {"n1": AFFINITY, "n2": AFFINITY, "n3": AFFINITY},
        ),
        (
            {"n1": [pt.pod("db", DB, namespace="other")]},
            pt.with_affinity(pt.pod("p"), required=[pt.term(match=DB, namespaces=["other"])]),
            {"n1": "", "n2": AFFINITY, "n3": AFFINITY},
        ),
        (
            {"n1": [pt.pod("db", DB, namespace="other")]},
            pt.with_affinity(pt.pod("p"), required=[pt.term(match=DB, all_namespaces=True)]),
            {"n1": "", "n2": AFFINITY, "n3": AFFINITY},
        ),
        (
            {"n1": [pt.pod("db", DB)]},
            pt.with_affinity(pt.pod("p"), required=[pt.term()]),
            {"n1": AFFINITY, "n2": AFFINITY, "n3": AFFINITY},
        ),
    ],
    ids=[
        "affinity-host",
        "affinity-zone",
        "first-of-its-group",
        "nothing-to-join",
        "first-but-no-topology-key",
        "anti-host",
        "anti-zone",
        "existing-anti",
        "existing-anti-other-pod",
        "other-namespace",
        "listed-namespace",
        "all-namespaces",
        "no-selector-selects-nothing",
    ],
)
def test_required_terms(
    pods_on: dict[str, list[core_pb2.Pod]], incoming: core_pb2.Pod, expected: dict[str, str]
) -> None:
    assert results(incoming, three_nodes(**pods_on)) == expected


def test_rejections_are_unresolvable_only_for_affinity() -> None:
    nodes = three_nodes(n1=[pt.pod("w", WEB)])
    plugin = interpodaffinity.new({})
    affine = pt.with_affinity(pt.pod("p"), required=[pt.term(match=DB)])
    anti = pt.with_affinity(pt.pod("q", WEB), anti=[pt.term(match=WEB)])
    assert pt.filter_all(plugin, affine, nodes)["n1"].code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert pt.filter_all(plugin, anti, nodes)["n1"].code is Code.UNSCHEDULABLE


def test_pods_without_terms_skip_the_plugin_unless_an_existing_pod_has_anti_affinity() -> None:
    plugin = interpodaffinity.new({})
    plain = three_nodes(n1=[pt.pod("w", WEB)])
    assert plugin.pre_filter(pt.state_for(plain), pt.pod("p")).is_skip
    assert plugin.pre_score(pt.state_for(plain), pt.pod("p"), plain).is_skip
    with_anti = three_nodes(n1=[pt.with_affinity(pt.pod("w", WEB), anti=[pt.term(match=WEB)])])
    assert plugin.pre_filter(pt.state_for(with_anti), pt.pod("p")).is_success


def test_the_cache_indexes_the_nodes_with_affinity_pods() -> None:
    cache = SchedulerCache()
    for name in ("n1", "n2"):
        cache.add_node(pt.zone_node(name, "a"))
    anti = pt.with_affinity(pt.pod("w", WEB, node_name="n2"), anti=[pt.term(match=WEB)])
    cache.add_pod(pt.pod("plain", node_name="n1"))
    cache.add_pod(anti)
    state = CycleState()
    state.all_nodes = cache.node_infos()
    assert [n.name for n in state.all_nodes.with_pod_affinity] == ["n2"]  # type: ignore[attr-defined]
    assert results(pt.pod("p", WEB), cache.node_infos())["n2"] == EXISTING_ANTI_AFFINITY
    cache.remove_pod(anti)
    assert cache.node_infos().with_pod_affinity == []  # type: ignore[attr-defined]
    assert (
        interpodaffinity.new({}).pre_filter(pt.state_for(cache.node_infos()), pt.pod("p")).is_skip
    )


@pytest.mark.parametrize(
    "pods_on, incoming, expected",
    [
        (
            {"n1": [pt.pod("db", DB)]},
            pt.with_affinity(pt.pod("p"), preferred=[(10, pt.term(match=DB))]),
            {"n1": 100, "n2": 0, "n3": 0},
        ),
        (
            {"n1": [pt.pod("db", DB)]},
            pt.with_affinity(pt.pod("p"), preferred=[(10, pt.term("zone", match=DB))]),
            {"n1": 100, "n2": 100, "n3": 0},
        ),
        (
            {"n1": [pt.pod("w", WEB)]},
            pt.with_affinity(pt.pod("p", WEB), preferred_anti=[(10, pt.term(match=WEB))]),
            {"n1": 0, "n2": 100, "n3": 100},
        ),
        (
            {"n1": [pt.pod("db", DB)], "n3": [pt.pod("w", WEB)]},
            pt.with_affinity(
                pt.pod("p", WEB),
                preferred=[(5, pt.term(match=DB))],
                preferred_anti=[(10, pt.term(match=WEB))],
            ),
            {"n1": 100, "n2": 66, "n3": 0},
        ),
        (
            {"n2": [pt.with_affinity(pt.pod("db", DB), preferred=[(7, pt.term(match=WEB))])]},
            pt.pod("p", WEB),
            {"n1": 0, "n2": 100, "n3": 0},
        ),
        (
            {"n2": [pt.with_affinity(pt.pod("db", DB), required=[pt.term(match=WEB)])]},
            pt.pod("p", WEB),
            {"n1": 0, "n2": 100, "n3": 0},
        ),
        (
            {
                "n2": [
                    pt.with_affinity(
                        pt.pod("db", DB), preferred_anti=[(7, pt.term("zone", match=WEB))]
                    )
                ]
            },
            pt.pod("p", WEB),
            {"n1": 0, "n2": 0, "n3": 100},
        ),
    ],
    ids=[
        "preferred-affinity",
        "preferred-zone",
        "preferred-anti",
        "both-weighed",
        "existing-preferred",
        "existing-required-hard-weight",
        "existing-preferred-anti",
    ],
)
def test_preferred_terms_score_by_weight(
    pods_on: dict[str, list[core_pb2.Pod]], incoming: core_pb2.Pod, expected: dict[str, int]
) -> None:
    nodes = three_nodes(**pods_on)
    assert pt.score_all(interpodaffinity.new({}), incoming, nodes) == expected


def test_hard_pod_affinity_weight_zero_ignores_existing_required_terms() -> None:
    nodes = three_nodes(n2=[pt.with_affinity(pt.pod("db", DB), required=[pt.term(match=WEB)])])
    plugin = interpodaffinity.new({"hardPodAffinityWeight": 0})
    assert pt.score_all(plugin, pt.pod("p", WEB), nodes) is None
    with pytest.raises(ValueError, match="hardPodAffinityWeight"):
        interpodaffinity.new({"hardPodAffinityWeight": 101})


def test_parsed_terms_are_reused_until_the_pod_changes() -> None:
    p = pt.with_affinity(pt.pod("w", WEB), anti=[pt.term(match=WEB)])
    first = pod_terms(p)
    assert pod_terms(p) is first
    p.metadata.resource_version = "2"
    p.spec.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution[
        0
    ].topology_key = "zone"
    assert [t.topology_key for t in pod_terms(p).required_anti_affinity] == ["zone"]
