"""PodTopologySpread: DoNotSchedule filters out nodes whose domain would exceed maxSkew over the
emptiest domain; ScheduleAnyway prefers emptier domains; nodes without the topology key, pods of
other namespaces and terminating pods count as Kubernetes counts them. A pod without constraints
of its own is spread by the system defaults among what its Services and controller select."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from google.protobuf.message import Message

from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.meta.v1 import meta_pb2
from scheduler.framework.handle import StaticListers
from scheduler.framework.runtime import Framework
from scheduler.framework.status import Code
from scheduler.framework.types import CycleState, PodInfo
from scheduler.plugins import default_profile, in_tree_registry, podtopologyspread
from tests.unit.scheduler import placementtest as pt
from tests.unit.scheduler import schedtest

WEB = {"app": "web"}
NOT_MATCH = "node(s) didn't match pod topology spread constraints"
MISSING_LABEL = NOT_MATCH + " (missing required label)"


def new(
    args: dict[str, Any] | None = None, **objects: Sequence[Message]
) -> podtopologyspread.PodTopologySpread:
    """The plugin with `args`, listing `objects` by plural (services=[...], replicasets=[...])."""
    plugin = podtopologyspread.new(args or {}, StaticListers(objects))
    assert isinstance(plugin, podtopologyspread.PodTopologySpread)
    return plugin


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
    statuses = pt.filter_all(new(), pt.with_spread(web("new"), match=WEB, **incoming), infos)
    assert {name for name, s in statuses.items() if s.is_success} == fits
    for s in statuses.values():
        if not s.is_success:
            assert s.reasons == (NOT_MATCH,) and s.code is Code.UNSCHEDULABLE


def test_a_pod_its_selector_does_not_match_adds_no_skew() -> None:
    infos = pt.cluster((pt.zone_node("n-a", "a"), [web("a0")]), (pt.zone_node("n-b", "b"), []))
    other = pt.with_spread(pt.pod("other", {"app": "db"}), match=WEB)
    assert all(s.is_success for s in pt.filter_all(new(), other, infos).values())


def test_a_node_without_the_topology_key_is_unresolvable() -> None:
    infos = pt.cluster((pt.zone_node("n-a", "a"), []), (pt.zone_node("bare"), []))
    statuses = pt.filter_all(new(), pt.with_spread(web("new"), match=WEB), infos)
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
    statuses = pt.filter_all(new(), pt.with_spread(web("new"), match=WEB), infos)
    assert statuses["n-a"].is_success


def test_nodes_the_pod_cannot_use_are_not_domains() -> None:
    """nodeAffinityPolicy Honor: zone b is not a domain for a pod that selects disk=ssd."""
    infos = pt.cluster(
        (pt.zone_node("n-a", "a", disk="ssd"), [web("a0")]),
        (pt.zone_node("n-b", "b", disk="hdd"), []),
    )
    incoming = pt.with_spread(web("new", node_selector={"disk": "ssd"}), match=WEB)
    assert pt.filter_all(new(), incoming, infos)["n-a"].is_success


def test_a_pod_without_constraints_skips_the_plugin() -> None:
    plugin = new()
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
    assert pt.score_all(new(), incoming, infos) == expected


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


def owned_by(p: core_pb2.Pod, kind: str, name: str, api_version: str = "apps/v1") -> core_pb2.Pod:
    p.metadata.owner_references.add(
        api_version=api_version, kind=kind, name=name, uid=f"uid-{name}", controller=True
    )
    return p


def replica_set(name: str, **match_labels: str) -> apps_pb2.ReplicaSet:
    rs = apps_pb2.ReplicaSet(metadata=meta_pb2.ObjectMeta(name=name, namespace="default"))
    rs.spec.selector.match_labels.update(match_labels)
    return rs


def service(name: str, namespace: str = "default", **selector: str) -> service_pb2.Service:
    svc = service_pb2.Service(metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace))
    svc.spec.selector.update(selector)
    return svc


def hosts(*counts: int) -> list[Any]:
    """Nodes n-0, n-1, ... without a zone label, holding that many of the ReplicaSet's pods."""
    return pt.cluster(
        *(
            (
                pt.zone_node(f"n-{i}"),
                [owned_by(web(f"w{i}-{j}"), "ReplicaSet", "web") for j in range(n)],
            )
            for i, n in enumerate(counts)
        )
    )


def test_a_replica_set_pod_without_constraints_spreads_over_hostnames_by_default() -> None:
    """defaultingType System: maxSkew 3 over hostnames, ScheduleAnyway, selecting what the
    ReplicaSet selects; the zone constraint leaves nodes without a zone label in the running."""
    plugin = new(replicasets=[replica_set("web", **WEB)])
    incoming = owned_by(web("new"), "ReplicaSet", "web")
    # Scoring only: no node is filtered out, however skewed.
    assert plugin.pre_filter(CycleState(), incoming).is_skip
    # Raw scores count * log(3 nodes + 2) + (maxSkew 3 - 1), rounded: 5, 4, 2; normalized as
    # 100 * (max + min - score) / max.
    assert pt.score_all(plugin, incoming, hosts(2, 1, 0)) == {"n-0": 40, "n-1": 60, "n-2": 100}
    assert pt.score_all(plugin, incoming, hosts(1, 1, 1)) == {"n-0": 100, "n-1": 100, "n-2": 100}


def test_services_and_a_replication_controller_select_what_counts() -> None:
    db = [pt.pod(f"db{i}", {"app": "db"}) for i in range(3)]
    nodes = pt.cluster((pt.zone_node("n-a"), db), (pt.zone_node("n-b"), []))
    incoming = pt.pod("new", {"app": "db", "tier": "x"})
    # Nothing selects or controls the pod: nothing to spread.
    assert new().pre_score(pt.state_for(nodes), incoming, nodes).is_skip
    # A Service selecting it: its pods count; one in another namespace, or without a selector,
    # selects nothing.
    others = [service("elsewhere", "other", app="db"), service("headless")]
    assert new(services=others).pre_score(pt.state_for(nodes), incoming, nodes).is_skip
    scores = pt.score_all(new(services=[service("db", app="db"), *others]), incoming, nodes)
    assert scores is not None and scores["n-b"] > scores["n-a"]
    # Its ReplicationController's selector merged in: the db pods lack tier=x, none count.
    rc = core_pb2.ReplicationController(
        metadata=meta_pb2.ObjectMeta(name="db", namespace="default")
    )
    rc.spec.selector.update({"app": "db", "tier": "x"})
    owned = owned_by(incoming, "ReplicationController", "db", api_version="v1")
    plugin = new(services=[service("db", app="db")], replicationcontrollers=[rc])
    assert pt.score_all(plugin, owned, nodes) == {"n-a": 100, "n-b": 100}


def test_a_controller_the_scheduler_has_not_seen_adds_nothing() -> None:
    incoming = owned_by(web("new"), "ReplicaSet", "gone")
    assert new().pre_score(CycleState(), incoming, []).is_skip
    nodes = hosts(2, 0)
    assert new().pre_score(pt.state_for(nodes), incoming, nodes).is_skip


def test_listed_default_constraints_filter_as_a_pods_own() -> None:
    args = {
        "defaultingType": "List",
        "defaultConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "DoNotSchedule",
            }
        ],
    }
    plugin = new(args, replicasets=[replica_set("web", **WEB)])
    incoming = owned_by(web("new"), "ReplicaSet", "web")
    statuses = pt.filter_all(plugin, incoming, hosts(2, 1))
    assert not statuses["n-0"].is_success and statuses["n-1"].is_success
    # A pod's own constraints take the place of the defaults.
    own = pt.with_spread(
        owned_by(web("own"), "ReplicaSet", "web"),
        max_skew=5,
        key="kubernetes.io/hostname",
        match=WEB,
    )
    assert all(s.is_success for s in pt.filter_all(plugin, own, hosts(2, 1)).values())
    # List without constraints: nothing by default.
    assert new({"defaultingType": "List"}).pre_score(CycleState(), incoming, []).is_skip


@pytest.mark.parametrize(
    "args, message",
    [
        ({"defaultingType": "Zone"}, 'defaultingType: Unsupported value: "Zone"'),
        (
            {
                "defaultConstraints": [
                    {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"}
                ]
            },
            'defaultingType: Invalid value: "System": when .defaultConstraints are not empty',
        ),
        (
            {
                "defaultingType": "List",
                "defaultConstraints": [
                    {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"}
                ],
            },
            r"defaultConstraints\[0\].maxSkew: Invalid value: 0: not in valid range \(0, inf\)",
        ),
        (
            {
                "defaultingType": "List",
                "defaultConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {},
                    }
                ],
            },
            "labelSelector: Forbidden: constraint must not define a selector",
        ),
        (
            {
                "defaultingType": "List",
                "defaultConstraints": [
                    {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway"}
                ]
                * 2,
            },
            r"defaultConstraints\[1\]: Duplicate value",
        ),
    ],
    ids=["unsupported-type", "system-with-list", "max-skew", "selector", "duplicate"],
)
def test_bad_arguments_are_refused_as_kube_scheduler_refuses_them(
    args: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        new(args)


def spread_of_six_replicas(args: dict[str, Any]) -> list[int]:
    """Six of a ReplicationController's replicas placed one after another by the default
    profile (PodTopologySpread with `args`) on three nodes, two of them holding another pod:
    how many each node gets, fewest first."""
    rc = core_pb2.ReplicationController(
        metadata=meta_pb2.ObjectMeta(name="web", namespace="default")
    )
    rc.spec.selector.update(WEB)
    infos = pt.cluster(
        (schedtest.node("n-a", cpu="2"), []),
        (schedtest.node("n-b", cpu="2"), [pt.pod("busy-b", {"app": "other"}, cpu="500m")]),
        (schedtest.node("n-c", cpu="2"), [pt.pod("busy-c", {"app": "other"}, cpu="500m")]),
    )
    profile = default_profile()
    profile = replace(
        profile,
        plugins=tuple(
            replace(p, args=args) if p.name == podtopologyspread.NAME else p
            for p in profile.plugins
        ),
    )
    handle = StaticListers({"replicationcontrollers": [rc]})
    algorithm = pt.algorithm(Framework(in_tree_registry(), profile, handle=handle))
    for i in range(6):
        replica = owned_by(web(f"web-{i}", cpu="200m"), "ReplicationController", "web", "v1")
        result = algorithm.schedule(replica, infos)
        assert result.status.is_success, result.status
        chosen = next(n for n in infos if n.name == result.node_name)
        replica.spec.node_name = chosen.name
        chosen.add_pod(PodInfo.of(replica))
    return sorted(sum(p.labels.get("app") == "web" for p in n.pods.values()) for n in infos)


def test_controlled_replicas_spread_evenly_though_two_nodes_are_busier() -> None:
    """The spread outweighs the other pods' requests, as on Kubernetes; without the defaults
    (List, none listed) the resource scores alone crowd the emptiest node."""
    assert spread_of_six_replicas({}) == [2, 2, 2]
    assert spread_of_six_replicas({"defaultingType": "List"}) != [2, 2, 2]


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


def test_each_pods_constraints_are_its_own_though_parsed_once_per_list() -> None:
    """Pods with the same list share one parse; a list that differs in anything (selector, skew,
    key, when) is parsed as its own, and the answer is a list the caller may change."""
    dns = podtopologyspread.DO_NOT_SCHEDULE

    def spread(p: core_pb2.Pod, when: str = dns) -> list[Any]:
        return [
            (c.max_skew, c.topology_key, c.selector and c.selector.matches(WEB), c.min_domains)
            for c in podtopologyspread.constraints(p, when)
        ]

    first = spread(pt.with_spread(web("a"), match=WEB))
    assert first == spread(pt.with_spread(web("b"), match=WEB)) == [(1, "zone", True, 1)]
    assert spread(pt.with_spread(web("c"), match={"app": "db"})) == [(1, "zone", False, 1)]
    assert spread(pt.with_spread(web("d"), match=WEB, max_skew=2, key="rack")) == [
        (2, "rack", True, 1)
    ]
    assert spread(pt.with_spread(web("e"), match=WEB, when="ScheduleAnyway")) == []
    assert spread(pt.with_spread(web("f"), match=WEB, when="ScheduleAnyway"), "ScheduleAnyway")
    got = podtopologyspread.constraints(pt.with_spread(web("g"), match=WEB), dns)
    got.clear()
    assert spread(pt.with_spread(web("h"), match=WEB)) == first
