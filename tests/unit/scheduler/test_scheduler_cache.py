"""The cache counts bound and assumed pods on their nodes, so consecutive decisions see each
other."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from scheduler.backend.cache.cache import SchedulerCache
from tests.unit.scheduler.schedtest import node, pod


def _bound(p: core_pb2.Pod, node_name: str) -> core_pb2.Pod:
    copy = core_pb2.Pod()
    copy.CopyFrom(p)
    copy.spec.node_name = node_name
    return copy


def _requested_cpu(cache: SchedulerCache, name: str) -> int:
    info = cache.node_info(name)
    assert info is not None
    return info.requested.milli_cpu


def test_assumed_pods_count_until_forgotten() -> None:
    cache = SchedulerCache()
    cache.add_node(node("n1"))
    p = _bound(pod(cpu="1"), "n1")
    cache.assume_pod(p)
    assert cache.is_assumed(p) and _requested_cpu(cache, "n1") == 1000
    cache.forget_pod(p)
    assert not cache.contains(p) and _requested_cpu(cache, "n1") == 0


def test_a_confirmed_binding_replaces_the_assumption_and_survives_forget() -> None:
    cache = SchedulerCache()
    cache.add_node(node("n1"))
    p = _bound(pod(cpu="1"), "n1")
    cache.assume_pod(p)
    cache.add_pod(p)  # the informer sees it bound
    assert not cache.is_assumed(p) and _requested_cpu(cache, "n1") == 1000
    cache.forget_pod(p)
    assert _requested_cpu(cache, "n1") == 1000


def test_a_pod_bound_elsewhere_than_assumed_moves() -> None:
    cache = SchedulerCache()
    cache.add_node(node("n1"))
    cache.add_node(node("n2"))
    p = pod(cpu="1")
    cache.assume_pod(_bound(p, "n1"))
    cache.add_pod(_bound(p, "n2"))
    assert (_requested_cpu(cache, "n1"), _requested_cpu(cache, "n2")) == (0, 1000)


def test_pods_of_an_unknown_node_wait_for_it_and_outlive_it() -> None:
    cache = SchedulerCache()
    p = _bound(pod(cpu="2"), "late")
    cache.add_pod(p)
    assert cache.node_infos() == []
    cache.add_node(node("late"))
    assert _requested_cpu(cache, "late") == 2000
    cache.remove_node(node("late"))
    assert cache.node_infos() == []
    cache.add_node(node("late"))
    assert _requested_cpu(cache, "late") == 2000
    cache.remove_pod(p)
    cache.remove_node(node("late"))
    assert cache.node_info("late") is None


def test_node_infos_are_sorted_by_name() -> None:
    cache = SchedulerCache()
    for name in ("c", "a", "b"):
        cache.add_node(node(name))
    assert [n.name for n in cache.node_infos()] == ["a", "b", "c"]
