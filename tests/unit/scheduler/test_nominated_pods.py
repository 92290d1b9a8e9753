"""Nominated pods: the queue's nominator keeps, for each node, the pods preemption is making room
for there (from the scheduler, or their status.nominatedNodeName), and forgets them when they are
placed, deleted or their nomination is cleared; a node's filters then count the nominated pods
that a pod must yield to (same or higher priority), and pass it only if it also fits without
them (kubernetes RunFilterPluginsWithNominatedPods)."""

from __future__ import annotations

import random

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.algorithm import SchedulingAlgorithm
from scheduler.backend.queue.nominator import Nominator
from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.framework.nominating import CLEAR_NOMINATED_NODE, NominatingInfo, NominatingMode
from scheduler.framework.runtime import Framework
from scheduler.framework.types import CycleState, NodeInfo, PodInfo
from scheduler.plugins import default_profile, in_tree_registry
from tests.unit.scheduler import placementtest as pt
from tests.unit.scheduler.schedtest import node, node_info, pod


def nominated(n: Nominator) -> dict[str, list[str]]:
    return {
        name: [p.pod.metadata.name for p in n.nominated_pods_for_node(name)]
        for name in n.nominated_node_names()
    }


def to(node_name: str) -> NominatingInfo:
    return NominatingInfo(node_name, NominatingMode.OVERRIDE)


# ---------------------------------------------------------------------- the nominator
def test_a_nomination_comes_from_the_scheduler_or_from_the_pods_status() -> None:
    n = Nominator()
    n.add_nominated_pod(pod("a"), to("n1"))
    n.add_nominated_pod(pod("b", nominated_node_name="n2"), None)
    n.add_nominated_pod(pod("c"), None)  # nothing to nominate it to
    assert nominated(n) == {"n1": ["a"], "n2": ["b"]}


def test_a_pod_is_nominated_to_one_node_at_most() -> None:
    n = Nominator()
    p = pod("a")
    n.add_nominated_pod(p, to("n1"))
    n.add_nominated_pod(p, to("n2"))
    assert nominated(n) == {"n2": ["a"]}
    n.add_nominated_pod(p, CLEAR_NOMINATED_NODE)
    assert nominated(n) == {}


def test_a_pod_gone_or_bound_is_not_nominated() -> None:
    gone, bound, pending = pod("gone"), pod("bound"), pod("pending")
    current = {"bound": pod("bound", uid=bound.metadata.uid, node_name="n9"), "pending": pending}
    n = Nominator(lambda p: current.get(p.metadata.name))
    for p in (gone, bound, pending):
        n.add_nominated_pod(p, to("n1"))
    assert nominated(n) == {"n1": ["pending"]}


def test_an_update_that_does_not_touch_the_nomination_keeps_the_schedulers() -> None:
    n = Nominator()
    old = pod("a")
    n.add_nominated_pod(old, to("n1"))
    new = pod("a", uid=old.metadata.uid, labels={"x": "y"})
    n.update_nominated_pod(old, new)
    assert nominated(n) == {"n1": ["a"]}
    assert n.nominated_pods_for_node("n1")[0].labels == {"x": "y"}  # the new pod is kept


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("", "n2", {"n2": ["a"]}),
        ("n1", "n2", {"n2": ["a"]}),
        ("n1", "", {}),
    ],
)
def test_the_status_decides_when_an_update_sets_or_clears_it(
    before: str, after: str, expected: dict[str, list[str]]
) -> None:
    n = Nominator()
    old = pod("a", nominated_node_name=before)
    n.add_nominated_pod(old, to("n1"))
    n.update_nominated_pod(old, pod("a", uid=old.metadata.uid, nominated_node_name=after))
    assert nominated(n) == expected


def test_the_queue_keeps_its_nominator_up_to_date() -> None:
    queue = SchedulingQueue()
    p = pod("a", nominated_node_name="n1")
    queue.add(p)
    assert nominated(queue.nominator) == {"n1": ["a"]}
    moved = pod("a", uid=p.metadata.uid, nominated_node_name="n2")
    queue.update(p, moved)
    assert nominated(queue.nominator) == {"n2": ["a"]}
    queue.delete(moved)
    assert nominated(queue.nominator) == {}


# ---------------------------------------------------------------------- the filters
def framework_with(*nominations: tuple[core_pb2.Pod, str]) -> Framework:
    fw = Framework(in_tree_registry(), default_profile())
    n = Nominator()
    for p, node_name in nominations:
        n.add_nominated_pod(p, to(node_name))
    fw.connect(nominator=n)
    return fw


def filter_node(fw: Framework, p: core_pb2.Pod, info: NodeInfo) -> str:
    state = CycleState()
    state.all_nodes = [info]
    assert fw.run_pre_filter(state, p).is_success
    status = fw.run_filter_with_nominated_pods(state, p, info)
    return "fits" if status.is_success else status.message


NOMINATED = pod("nominated", cpu="2", priority=10)


@pytest.mark.parametrize(
    ("incoming", "verdict"),
    [
        (pod("lower", cpu="1", priority=5), "Insufficient cpu"),
        (pod("equal", cpu="1", priority=10), "Insufficient cpu"),
        (pod("higher", cpu="1", priority=20), "fits"),
        (pod("small", cpu="500m", priority=5), "fits"),
        (NOMINATED, "fits"),  # not counted against itself
    ],
    ids=["lower", "equal", "higher", "room-for-both", "itself"],
)
def test_a_node_counts_the_nominated_pods_a_pod_must_yield_to(
    incoming: core_pb2.Pod, verdict: str
) -> None:
    # 4 cpu, 1.5 used: 2.5 free, 2 of them the nominated pod's.
    info = node_info(node("n1", cpu="4"), pod("running", cpu="1500m"))
    assert filter_node(framework_with((NOMINATED, "n1")), incoming, info) == verdict
    assert len(info.pods) == 1  # the nominated pod was counted on a copy


def test_a_pod_must_also_fit_without_the_nominated_pods() -> None:
    # Required affinity to the nominated pod only: it may yet go elsewhere.
    friend = pt.pod("friend", {"app": "db"}, priority=10)
    follower = pt.with_affinity(
        pt.pod("follower", priority=1), required=[pt.term(match={"app": "db"})]
    )
    info = node_info(node("n1"))
    message = filter_node(framework_with((friend, "n1")), follower, info)
    assert message == "node(s) didn't match pod affinity rules"


def test_nominated_pods_count_for_anti_affinity_too() -> None:
    web = pt.pod("web", {"app": "web"}, priority=10)
    other = pt.with_affinity(pt.pod("other", priority=1), anti=[pt.term(match={"app": "web"})])
    message = filter_node(framework_with((web, "n1")), other, node_info(node("n1")))
    assert message == "node(s) didn't match pod anti-affinity rules"


@pytest.mark.parametrize("bulk", [True, False])
def test_a_lower_priority_pod_is_placed_beside_the_room_being_made(bulk: bool) -> None:
    nodes = [node_info(node("n1", cpu="2")), node_info(node("n2", cpu="2"))]
    fw = Framework(in_tree_registry(), default_profile(), bulk=bulk)
    n = Nominator()
    n.add_nominated_pod(pod("preemptor", cpu="2", priority=10), to("n1"))
    fw.connect(nominator=n)
    algorithm = SchedulingAlgorithm(fw, random.Random(0))
    for _ in range(4):  # wherever the round-robin search starts
        result = algorithm.schedule(pod("low", cpu="1", priority=1), nodes)
        assert result.node_name == "n2"
    nodes[1].add_pod(PodInfo.of(pod("placed", cpu="1", node_name="n2")))
    result = algorithm.schedule(pod("big", cpu="2", priority=1), nodes)
    assert result.status.message == "0/2 nodes are available: 2 Insufficient cpu."


def test_the_nominated_node_is_tried_first() -> None:
    # n2 is busier, so it scores lower; the pod nominated there goes there all the same.
    nodes = [node_info(node("n1", cpu="8")), node_info(node("n2", cpu="8"), pod(cpu="6"))]
    fw = framework_with()
    result = SchedulingAlgorithm(fw, random.Random(0)).schedule(
        pod("p", cpu="1", nominated_node_name="n2"), nodes
    )
    assert (result.node_name, result.evaluated_nodes) == ("n2", 1)
    result = SchedulingAlgorithm(fw, random.Random(0)).schedule(pod("q", cpu="1"), nodes)
    assert result.node_name == "n1"


def test_a_nominated_node_that_no_longer_fits_is_searched_past() -> None:
    nodes = [node_info(node("n1", cpu="8")), node_info(node("n2", cpu="2"), pod(cpu="2"))]
    result = SchedulingAlgorithm(framework_with(), random.Random(0)).schedule(
        pod("p", cpu="1", nominated_node_name="n2"), nodes
    )
    assert result.node_name == "n1"
