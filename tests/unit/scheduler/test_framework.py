"""The framework: the registry rejects duplicates, filters stop at the first rejection, scores are
normalized and weighted, and rejections add up to Kubernetes' "0/N nodes are available" message."""

from __future__ import annotations

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.framework.diagnosis import Diagnosis, fit_error_message
from scheduler.framework.interfaces import Plugin, PluginArgs, PluginFactory
from scheduler.framework.registry import DuplicatePluginError, Registry, UnknownPluginError
from scheduler.framework.runtime import Framework, PluginSpec, Profile, ProfileError
from scheduler.framework.status import SUCCESS, Code, Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins import default_profile, in_tree_registry
from tests.unit.scheduler.schedtest import node, node_info, pod


class Rejects:
    """Rejects the nodes named in args["nodes"]; scores each node by args["scores"]."""

    def __init__(self, name: str, args: PluginArgs) -> None:
        self.name = name
        self.nodes = set(args.get("nodes", ()))
        self.scores: dict[str, int] = dict(args.get("scores", {}))
        self.filtered: list[str] = []

    def filter(self, state: CycleState, the_pod: core_pb2.Pod, info: NodeInfo) -> Status:
        self.filtered.append(info.name)
        return Status.unschedulable(f"{self.name} says no") if info.name in self.nodes else SUCCESS

    def score(self, state: CycleState, the_pod: core_pb2.Pod, info: NodeInfo) -> tuple[int, Status]:
        return self.scores.get(info.name, 0), SUCCESS


class Doubles(Rejects):
    def normalize_score(
        self, state: CycleState, the_pod: core_pb2.Pod, scores: dict[str, int]
    ) -> Status:
        for name in scores:
            scores[name] *= 2
        return SUCCESS


def _factory(cls: type[Rejects], name: str) -> PluginFactory:
    return lambda args: cls(name, args)


def _framework(*specs: PluginSpec) -> Framework:
    registry = Registry(
        {"A": _factory(Rejects, "A"), "B": _factory(Rejects, "B"), "D": _factory(Doubles, "D")}
    )
    return Framework(registry, Profile(plugins=specs))


# ------------------------------------------------------------------ registry
def test_registry_rejects_a_duplicate_name() -> None:
    registry = Registry({"A": _factory(Rejects, "A")})
    with pytest.raises(DuplicatePluginError, match="a plugin named A already exists"):
        registry.register("A", _factory(Rejects, "A"))
    with pytest.raises(DuplicatePluginError):
        registry.merge(Registry({"A": _factory(Rejects, "A")}))


def test_registry_names_an_unknown_plugin() -> None:
    with pytest.raises(UnknownPluginError, match="'Nope' does not exist"):
        Registry().factory("Nope")
    with pytest.raises(UnknownPluginError):
        _framework(PluginSpec("Nope"))


def test_in_tree_registry_builds_the_default_profile() -> None:
    fw = Framework(in_tree_registry(), default_profile())
    # Kubernetes' order (apis/config/v1/default_plugins.go), NodeReady standing in for the
    # not-ready taint.
    assert list(fw.plugins) == [
        "SchedulingGates",
        "NodeUnschedulable",
        "NodeName",
        "TaintToleration",
        "NodeReady",
        "NodeAffinity",
        "NodePorts",
        "NodeResourcesFit",
        "VolumeBinding",
        "PodTopologySpread",
        "InterPodAffinity",
        "DefaultPreemption",
        "NodeResourcesBalancedAllocation",
        "ImageLocality",
    ]
    assert all(isinstance(p, Plugin) for p in fw.plugins.values())
    weights = {s.name: s.weight for s in default_profile().plugins}
    assert weights == {
        "SchedulingGates": 1,
        "NodeUnschedulable": 1,
        "NodeName": 1,
        "TaintToleration": 3,
        "NodeReady": 1,
        "NodeAffinity": 2,
        "NodePorts": 1,
        "NodeResourcesFit": 1,
        "VolumeBinding": 1,
        "PodTopologySpread": 2,
        "InterPodAffinity": 2,
        "DefaultPreemption": 1,
        "NodeResourcesBalancedAllocation": 1,
        "ImageLocality": 1,
    }


def test_a_profile_enables_a_plugin_once_with_a_positive_weight() -> None:
    with pytest.raises(ProfileError, match="more than once"):
        _framework(PluginSpec("A"), PluginSpec("A"))
    with pytest.raises(ProfileError, match="weight must be positive"):
        _framework(PluginSpec("A", weight=0))


# ------------------------------------------------------------------ filter
def test_the_first_rejecting_filter_decides_and_names_itself() -> None:
    fw = _framework(
        PluginSpec("A", args={"nodes": ["n1"]}), PluginSpec("B", args={"nodes": ["n1"]})
    )
    status = fw.run_filter(CycleState(), pod(), node_info(node("n1")))
    assert (status.code, status.reasons, status.plugin) == (Code.UNSCHEDULABLE, ("A says no",), "A")
    assert fw.plugins["B"].filtered == []  # type: ignore[attr-defined]
    assert fw.run_filter(CycleState(), pod(), node_info(node("n2"))).is_success


# ------------------------------------------------------------------ score
def test_scores_are_normalized_then_weighted_and_summed() -> None:
    fw = _framework(
        PluginSpec("A", weight=3, args={"scores": {"n1": 10, "n2": 20}}),
        PluginSpec("D", weight=2, args={"scores": {"n1": 40, "n2": 5}}),
    )
    nodes = [node_info(node("n1")), node_info(node("n2"))]
    totals, status = fw.run_score(CycleState(), pod(), nodes)
    assert status.is_success
    assert totals == {"n1": 3 * 10 + 2 * 80, "n2": 3 * 20 + 2 * 10}


def test_a_score_out_of_range_is_an_error() -> None:
    fw = _framework(PluginSpec("D", args={"scores": {"n1": 60}}))
    _, status = fw.run_score(CycleState(), pod(), [node_info(node("n1"))])
    assert status.is_error and status.plugin == "D"
    assert "invalid score 120" in status.message


# ------------------------------------------------------------------ the message
@pytest.mark.parametrize(
    "statuses, message",
    [
        ({}, "0/0 nodes are available:"),
        (
            {
                "n1": Status.unschedulable("Insufficient cpu"),
                "n2": Status.unschedulable("Insufficient cpu"),
                "n3": Status.unresolvable("node(s) had untolerated taint {k: v}"),
            },
            "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.",
        ),
        # One node may give several reasons; each is counted.
        (
            {
                "n1": Status.unschedulable("Insufficient cpu", "Insufficient memory"),
                "n2": Status.unschedulable("Insufficient memory"),
            },
            "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.",
        ),
        # Sorted as strings, as Go's sort.Strings does: "10 ..." before "2 ...".
        (
            {
                **{f"a{i}": Status.unschedulable("Insufficient cpu") for i in range(10)},
                "b1": Status.unresolvable("node(s) were unschedulable"),
                "b2": Status.unresolvable("node(s) were unschedulable"),
            },
            "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable.",
        ),
    ],
)
def test_fit_error_message(statuses: dict[str, Status], message: str) -> None:
    assert fit_error_message(len(statuses), Diagnosis(node_to_status=statuses)) == message


def test_fit_error_message_of_a_pre_filter_rejection() -> None:
    diagnosis = Diagnosis(pre_filter_message="pod has unbound PersistentVolumeClaims")
    assert (
        fit_error_message(3, diagnosis)
        == "0/3 nodes are available: pod has unbound PersistentVolumeClaims."
    )
