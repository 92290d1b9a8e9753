"""The cache hands out the same node list until a node comes or goes, and that list always shows
the pods as they are now (NodeInfos change in place)."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from scheduler.backend.cache.cache import SchedulerCache
from tests.unit.scheduler.schedtest import node, pod


def _on(p: core_pb2.Pod, node_name: str) -> core_pb2.Pod:
    copy = core_pb2.Pod()
    copy.CopyFrom(p)
    copy.spec.node_name = node_name
    return copy


def _names(cache: SchedulerCache) -> list[str]:
    return [info.name for info in cache.node_infos()]


def test_pods_coming_and_going_keep_the_list_and_show_in_it() -> None:
    cache = SchedulerCache()
    cache.add_node(node("b"))
    cache.add_node(node("a"))
    first = cache.node_infos()
    assert _names(cache) == ["a", "b"]
    p = _on(pod(cpu="1"), "a")
    cache.assume_pod(p)
    cache.add_pod(p)
    assert cache.node_infos() is first and first[0].requested.milli_cpu == 1000
    cache.update_node(node("a"))  # a heartbeat: same node
    assert cache.node_infos() is first


def test_a_node_added_removed_or_named_by_a_pod_first_changes_the_list() -> None:
    cache = SchedulerCache()
    cache.add_node(node("a"))
    assert _names(cache) == ["a"]
    cache.add_pod(_on(pod(cpu="1"), "c"))  # bound to a node not seen yet: not schedulable
    assert _names(cache) == ["a"]
    cache.add_node(node("c"))
    assert _names(cache) == ["a", "c"]
    assert cache.node_infos()[1].requested.milli_cpu == 1000
    cache.remove_node(node("a"))
    assert _names(cache) == ["c"]
    cache.remove_node(node("c"))  # its pod still counts, but it is no candidate
    assert _names(cache) == []
