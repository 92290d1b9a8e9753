"""A pod whose required node affinity names its nodes (matchFields metadata.name, as a DaemonSet
makes its pods) is filtered on those nodes alone; every other node is rejected unseen, and the
message counts them as kube-scheduler does (PreFilterResult.NodeNames, SetAbsentNodesStatus)."""

from __future__ import annotations

import random

from podplane.api.core.v1 import core_pb2
from scheduler.algorithm import SchedulingAlgorithm
from scheduler.framework.runtime import Framework
from scheduler.framework.status import Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins import default_profile, in_tree_registry
from tests.unit.scheduler.schedtest import node, node_affinity, node_info, pod


class CountingFramework(Framework):
    """The default plugins, counting the nodes the filters looked at."""

    filtered: list[str]

    def run_filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        self.filtered.append(node.name)
        return super().run_filter(state, pod, node)

    def run_remaining_filters(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        self.filtered.append(node.name)
        return super().run_remaining_filters(state, pod, node)


def _algorithm() -> tuple[SchedulingAlgorithm, CountingFramework]:
    framework = CountingFramework(in_tree_registry(), default_profile(), bulk=False)
    framework.filtered = []
    return SchedulingAlgorithm(framework, random.Random(0)), framework


def nodes(*small: str) -> list[NodeInfo]:
    return [node_info(node(f"n{i}", cpu="100m" if f"n{i}" in small else "4")) for i in range(5)]


def pinned(*names: str, cpu: str = "1") -> core_pb2.Pod:
    p = pod(cpu=cpu)
    p.spec.affinity.CopyFrom(
        node_affinity(fields=[{"key": "metadata.name", "operator": "In", "values": list(names)}])
    )
    return p


def test_a_pod_pinned_to_a_node_is_filtered_there_alone() -> None:
    algorithm, framework = _algorithm()
    result = algorithm.schedule(pinned("n3"), nodes())
    assert (result.node_name, result.evaluated_nodes, result.feasible_nodes) == ("n3", 1, 1)
    assert framework.filtered == ["n3"]


def test_the_nodes_not_named_are_counted_in_the_message() -> None:
    algorithm, framework = _algorithm()
    result = algorithm.schedule(pinned("n3"), nodes("n3"))
    assert result.status.is_rejected
    assert result.status.message == (
        "0/5 nodes are available: 1 Insufficient cpu, "
        "4 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    )
    assert framework.filtered == ["n3"]
    assert result.diagnosis.unschedulable_plugins == {"NodeAffinity", "NodeResourcesFit"}
    statuses = result.diagnosis.node_statuses()
    assert statuses.get("n0").message == "node(s) didn't satisfy plugin(s) [NodeAffinity]"
    assert statuses.get("n3").message == "Insufficient cpu"


def test_a_name_no_node_has_leaves_every_node_unseen() -> None:
    algorithm, framework = _algorithm()
    result = algorithm.schedule(pinned("gone"), nodes())
    assert result.status.message == (
        "0/5 nodes are available: 5 node(s) didn't satisfy plugin(s) [NodeAffinity]."
    )
    assert framework.filtered == []


def test_terms_that_name_no_node_in_common_conflict() -> None:
    p = pod()
    required = p.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    term = required.node_selector_terms.add()
    term.match_fields.add(key="metadata.name", operator="In", values=["n1"])
    term.match_fields.add(key="metadata.name", operator="In", values=["n2"])
    algorithm, framework = _algorithm()
    result = algorithm.schedule(p, nodes())
    assert result.status.message == "0/5 nodes are available: pod affinity terms conflict."
    assert framework.filtered == []


def test_a_term_without_names_lets_every_node_be_filtered() -> None:
    p = pinned("n1")
    required = p.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    required.node_selector_terms.add().match_expressions.add(
        key="zone", operator="In", values=["a"]
    )
    algorithm, framework = _algorithm()
    result = algorithm.schedule(p, nodes())
    assert result.node_name == "n1"
    assert sorted(framework.filtered) == ["n0", "n1", "n2", "n3", "n4"]
