"""NodeResourcesFit (filter and LeastAllocated score) and NodeResourcesBalancedAllocation."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.framework.status import Code
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins.noderesources import balanced_allocation
from scheduler.plugins.noderesources import fit as noderesources_fit
from tests.unit.scheduler.schedtest import container, node, node_info, pod


def _filter(the_pod: core_pb2.Pod, info: NodeInfo) -> tuple[str, ...]:
    plugin, state = noderesources_fit.new({}), CycleState()
    assert plugin.pre_filter(state, the_pod).is_success
    status = plugin.filter(state, the_pod, info)
    if not status.is_success:
        assert status.code is Code.UNSCHEDULABLE
    return status.reasons


@pytest.mark.parametrize(
    "the_pod, info, reasons",
    [
        (pod(cpu="1", memory="1Gi"), node_info(node(cpu="2", memory="2Gi")), ()),
        (pod(cpu="2", memory="2Gi"), node_info(node(cpu="2", memory="2Gi")), ()),
        (pod(cpu="3"), node_info(node(cpu="2")), ("Insufficient cpu",)),
        (pod(memory="3Gi"), node_info(node(memory="2Gi")), ("Insufficient memory",)),
        (
            pod(cpu="3", memory="3Gi"),
            node_info(node(cpu="2", memory="2Gi")),
            ("Insufficient cpu", "Insufficient memory"),
        ),
        # What is already on the node counts.
        (pod(cpu="1500m"), node_info(node(cpu="2"), pod(cpu="1")), ("Insufficient cpu",)),
        (pod(cpu="1"), node_info(node(cpu="2"), pod(cpu="1")), ()),
        (pod(), node_info(node(pods="1"), pod()), ("Too many pods",)),
        (
            pod(cpu="5"),
            node_info(node(cpu="4", pods="1"), pod()),
            ("Too many pods", "Insufficient cpu"),
        ),
        # A pod that requests nothing fits anywhere with a free pod slot.
        (pod(), node_info(node(cpu="1"), pod(cpu="1")), ()),
        # Limits stand in for missing requests.
        (
            pod(containers=[container(limits={"cpu": "3"})]),
            node_info(node(cpu="2")),
            ("Insufficient cpu",),
        ),
        # Extended resources.
        (
            pod(containers=[container(requests={"example.com/gpu": "1"})]),
            node_info(node()),
            ("Insufficient example.com/gpu",),
        ),
        (
            pod(containers=[container(requests={"example.com/gpu": "1"})]),
            node_info(
                node(
                    allocatable={"cpu": "1", "memory": "1Gi", "pods": "10", "example.com/gpu": "2"}
                )
            ),
            (),
        ),
        (
            pod(containers=[container(requests={"ephemeral-storage": "2Gi"})]),
            node_info(node(allocatable={"pods": "10", "ephemeral-storage": "1Gi"})),
            ("Insufficient ephemeral-storage",),
        ),
        # No allocatable pods means no room, as in Kubernetes.
        (pod(), node_info(node(allocatable={"cpu": "4"})), ("Too many pods",)),
    ],
    ids=[
        "fits",
        "exactly",
        "cpu",
        "memory",
        "both",
        "requested-counted",
        "fills-up",
        "pods",
        "pods-and-cpu",
        "best-effort",
        "limits",
        "gpu-missing",
        "gpu",
        "ephemeral",
        "no-pods-allocatable",
    ],
)
def test_filter(the_pod: core_pb2.Pod, info: NodeInfo, reasons: tuple[str, ...]) -> None:
    assert _filter(the_pod, info) == reasons


def test_allocatable_falls_back_to_capacity() -> None:
    n = node(cpu="2")
    n.status.ClearField("allocatable")
    assert _filter(pod(cpu="3"), node_info(n)) == ("Insufficient cpu",)
    assert _filter(pod(cpu="1"), node_info(n)) == ()


def _scores(plugin: Any, the_pod: core_pb2.Pod, nodes: list[NodeInfo]) -> dict[str, int]:
    state = CycleState()
    status = plugin.pre_score(state, the_pod, nodes)
    if status.is_skip:
        return {}
    return {n.name: plugin.score(state, the_pod, n)[0] for n in nodes}


def test_least_allocated_prefers_emptier_nodes() -> None:
    # Kubernetes' least_allocated_test: cpu (4000-3000)/4000 -> 25, memory (10000-5000)/10000 -> 50.
    nodes = [
        node_info(node("busy", cpu="4", memory="10000"), pod(cpu="3", memory="5000")),
        node_info(node("idle", cpu="4", memory="10000")),
    ]
    scores = _scores(noderesources_fit.new({}), pod(), nodes)
    # The pod itself counts the scoring defaults (100m, 200Mi; memory then exceeds 10000 bytes).
    assert scores == {"busy": (22 + 0) // 2, "idle": (97 + 0) // 2}
    scores = _scores(noderesources_fit.new({}), pod(cpu="1", memory="1"), nodes)
    assert scores == {"busy": (0 + 49) // 2, "idle": (75 + 99) // 2}


def test_least_allocated_resource_weights() -> None:
    plugin = noderesources_fit.new(
        {
            "scoringStrategy": {
                "resources": [{"name": "cpu", "weight": 3}, {"name": "memory", "weight": 1}]
            }
        }
    )
    nodes = [node_info(node("n", cpu="4", memory="4000"), pod(cpu="2", memory="3000"))]
    assert _scores(plugin, pod(cpu="1", memory="1000"), nodes) == {"n": (25 * 3 + 0) // 4}


def test_unknown_scoring_strategy_is_rejected() -> None:
    with pytest.raises(ValueError, match="MostAllocated is not supported"):
        noderesources_fit.new({"scoringStrategy": {"type": "MostAllocated"}})


@pytest.mark.parametrize(
    "requested, allocatable, score",
    [
        ([0, 0], [4000, 10000], 100),
        ([3000, 5000], [4000, 10000], 87),  # fractions .75 and .5: 1 - .125
        ([2000, 5000], [4000, 10000], 100),
        ([4000, 0], [4000, 10000], 50),
        ([8000, 10000], [4000, 10000], 100),  # fractions are capped at 1
        ([1000, 0], [4000, 0], 100),  # one resource: no spread
        ([1, 1, 1], [2, 4, 4], 88),  # std of (.5, .25, .25) = .1178...
    ],
)
def test_balanced_resource_scorer(requested: list[int], allocatable: list[int], score: int) -> None:
    assert balanced_allocation.balanced_resource_scorer(requested, allocatable) == score


def test_balanced_allocation_uses_actual_requests() -> None:
    nodes = [
        node_info(node("cpu-heavy", cpu="4", memory="4Gi"), pod(cpu="3")),
        node_info(node("even", cpu="4", memory="4Gi"), pod(cpu="2", memory="2Gi")),
    ]
    scores = _scores(balanced_allocation.new({}), pod(cpu="1", memory="1Gi"), nodes)
    assert scores == {"cpu-heavy": 62, "even": 100}


def test_balanced_allocation_skips_best_effort_pods() -> None:
    assert _scores(balanced_allocation.new({}), pod(), [node_info(node())]) == {}
