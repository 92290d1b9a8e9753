"""Preemption's victims found on a node's sums are the dry run's, exactly: the same pods in the
same order, the same count of budgets broken, the same status where none can be found; and the
sums are not used where something besides resources depends on the pods."""

from __future__ import annotations

import random
from collections import Counter

from podplane.api.core.v1 import core_pb2
from scheduler.backend.queue.nominator import Nominator
from scheduler.framework.runtime import Framework
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.plugins.defaultpreemption import DefaultPreemption
from tests.unit.scheduler.schedtest import budget, node, node_info, pod

START = "2026-11-28T00:00:%02dZ"


def framework() -> tuple[Framework, DefaultPreemption]:
    fw = Framework(in_tree_registry(), default_profile())
    plugin = fw.plugins["DefaultPreemption"]
    assert isinstance(plugin, DefaultPreemption)
    return fw, plugin


def attempt(fw: Framework, preemptor: core_pb2.Pod) -> CycleState:
    state = CycleState()
    assert fw.run_pre_filter(state, preemptor).is_success
    return state


def random_node(rng: random.Random, index: int) -> NodeInfo:
    pods = [
        pod(
            f"n{index}-p{j}",
            cpu=f"{rng.choice([100, 500, 900, 1500])}m",
            memory=f"{rng.choice([100, 500, 2000])}Mi",
            priority=rng.choice([0, 1, 5, 10, 20]),
            labels={"app": rng.choice(["a", "b"])},
            start_time=START % rng.randrange(60),
        )
        for j in range(rng.randrange(0, 7))
    ]
    return node_info(node(f"n{index}", cpu="4", memory="4Gi", pods=rng.choice(["4", "110"])), *pods)


def test_the_sums_find_the_dry_runs_victims() -> None:
    outcomes = Counter(outcome for seed in range(40) for outcome in compare(seed))
    # Both answers were compared many times: victims found, and none that would help.
    assert outcomes["victims"] > 50 and outcomes["none"] > 50, outcomes


def compare(seed: int) -> list[str]:
    rng = random.Random(seed)
    outcomes = []
    fw, plugin = framework()
    budgets = [budget(match_labels={"app": "a"}, allowed=rng.randrange(3))]
    preemptor = pod(
        "high",
        cpu=f"{rng.choice([500, 2000, 3000, 5000])}m",
        memory=f"{rng.choice([100, 1000, 5000])}Mi",
        priority=10,
    )
    for index in range(10):
        info = random_node(rng, index)
        state = attempt(fw, preemptor)
        on_node = plugin.victims_by_sum(state, preemptor)
        assert on_node is not None
        by_sum = on_node(info, budgets)
        assert by_sum is not None
        dry_run = plugin.select_victims_on_node(state.clone(), preemptor, info.snapshot(), budgets)
        victims, violations, status = by_sum
        assert [p.metadata.name for p in victims] == [p.metadata.name for p in dry_run[0]]
        assert violations == dry_run[1]
        assert (status.code, status.reasons, status.plugin) == (
            dry_run[2].code,
            dry_run[2].reasons,
            dry_run[2].plugin,
        )
        outcomes.append("victims" if victims else "none")
    return outcomes


def test_a_node_is_left_as_it_was() -> None:
    fw, plugin = framework()
    info = node_info(node("n", cpu="2"), pod("low", cpu="1500m", priority=0))
    preemptor = pod("high", cpu="1", priority=10)
    on_node = plugin.victims_by_sum(attempt(fw, preemptor), preemptor)
    assert on_node is not None
    answer = on_node(info, [])
    assert answer is not None and [p.metadata.name for p in answer[0]] == ["low"]
    assert len(info.pods) == 1 and info.requested.milli_cpu == 1500


def test_pod_affinity_or_host_ports_need_the_dry_run() -> None:
    fw, plugin = framework()
    with_ports = pod("high", cpu="1", priority=10)
    with_ports.spec.containers[0].ports.add(container_port=80, host_port=80)
    assert plugin.victims_by_sum(attempt(fw, with_ports), with_ports) is None


def test_a_node_with_a_pod_nominated_that_the_preemptor_yields_to_needs_the_dry_run() -> None:
    """The dry run filters with the nominated pods of as high a priority added; the sums do not,
    so that node is left to it, and only that node."""
    fw, plugin = framework()
    nominator = Nominator()
    nominator.add_nominated_pod(
        pod("waiting", cpu="1", priority=10, nominated_node_name="n1"), None
    )
    nominator.add_nominated_pod(pod("lower", cpu="1", priority=5, nominated_node_name="n2"), None)
    fw.connect(nominator=nominator)
    preemptor = pod("high", cpu="1", priority=10)
    on_node = plugin.victims_by_sum(attempt(fw, preemptor), preemptor)
    assert on_node is not None
    n1, n2 = (
        node_info(node(n, cpu="2"), pod(f"low-{n}", cpu="2", priority=0)) for n in ("n1", "n2")
    )
    assert on_node(n1, []) is None
    answer = on_node(n2, [])
    assert answer is not None and [p.metadata.name for p in answer[0]] == ["low-n2"]
