"""One decision over a set of nodes with the default plugins: the pod goes where it fits best, and
when it fits nowhere the message says why, node by node."""

from __future__ import annotations

import random

from podplane.api.core.v1 import core_pb2
from scheduler.algorithm import SchedulingAlgorithm, num_feasible_nodes_to_find
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry
from tests.unit.scheduler.schedtest import node, node_info, pod


def _algorithm(seed: int = 0) -> SchedulingAlgorithm:
    return SchedulingAlgorithm(
        Framework(in_tree_registry(), default_profile()), random.Random(seed)
    )


def test_the_pod_goes_to_the_least_loaded_node_that_fits() -> None:
    nodes = [
        node_info(node("busy", cpu="4"), pod(cpu="3")),
        node_info(node("idle", cpu="4")),
        node_info(node("small", cpu="500m")),
    ]
    result = _algorithm().schedule(pod(cpu="1", memory="1Gi"), nodes)
    assert result.status.is_success
    assert (result.node_name, result.evaluated_nodes, result.feasible_nodes) == ("idle", 3, 2)


def test_no_fit_counts_each_reason_over_the_nodes() -> None:
    nodes = [
        node_info(node("n1", cpu="1")),
        node_info(node("n2", cpu="1")),
        node_info(node("n3", cpu="8", taints=[{"key": "k", "value": "v", "effect": "NoSchedule"}])),
    ]
    result = _algorithm().schedule(pod(cpu="2"), nodes)
    assert result.status.is_rejected
    assert (
        result.status.message
        == "0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu."
    )
    assert result.diagnosis.unschedulable_plugins == {"TaintToleration", "NodeResourcesFit"}


def test_every_filter_reason_reads_as_kubernetes_writes_it() -> None:
    nodes = [
        node_info(node("cordoned", unschedulable=True)),
        node_info(node("not-ready", ready="False")),
        node_info(node("labelled", labels={"disk": "hdd"})),
        node_info(node("full", pods="1", labels={"disk": "ssd"}), pod()),
    ]
    result = _algorithm().schedule(pod(node_selector={"disk": "ssd"}), nodes)
    assert result.status.message == (
        "0/4 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node "
        "affinity/selector, 1 node(s) were not ready, 1 node(s) were unschedulable."
    )


def test_consecutive_decisions_see_assumed_pods() -> None:
    cache = SchedulerCache()
    for name in ("n1", "n2", "n3"):
        cache.add_node(node(name, cpu="2"))
    algorithm = _algorithm()
    placed: dict[str, int] = {}
    for i in range(7):
        p = pod(f"p{i}", cpu="1")
        result = algorithm.schedule(p, cache.node_infos())
        if not result.status.is_success:
            assert result.status.message == "0/3 nodes are available: 3 Insufficient cpu."
            continue
        assumed = core_pb2.Pod()
        assumed.CopyFrom(p)
        assumed.spec.node_name = result.node_name
        cache.assume_pod(assumed)
        placed[result.node_name] = placed.get(result.node_name, 0) + 1
    assert placed == {"n1": 2, "n2": 2, "n3": 2}


def test_equal_nodes_share_the_load() -> None:
    nodes = [node_info(node(f"n{i}")) for i in range(4)]
    chosen = {_algorithm(seed).schedule(pod(cpu="1"), nodes).node_name for seed in range(40)}
    assert chosen == {"n0", "n1", "n2", "n3"}


def test_no_nodes_is_an_error_not_a_rejection() -> None:
    result = _algorithm().schedule(pod(), [])
    assert result.status.is_error
    assert result.status.message == "no nodes available to schedule pods"


def test_large_clusters_search_a_share_of_the_nodes() -> None:
    assert num_feasible_nodes_to_find(50) == 50
    assert num_feasible_nodes_to_find(1000) == 420
    assert num_feasible_nodes_to_find(5000) == 500
    assert num_feasible_nodes_to_find(300, percentage=10) == 100
    nodes = [node_info(node(f"n{i:04}")) for i in range(1000)]
    result = _algorithm().schedule(pod(cpu="1"), nodes)
    assert (result.evaluated_nodes, result.feasible_nodes) == (420, 420)
