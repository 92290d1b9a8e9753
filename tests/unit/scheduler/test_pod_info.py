"""A scheduling attempt reads its pod once (CycleState.pod_info): the plugins share that PodInfo,
and the pod assumed on the chosen node counts the same; another pod, or an update of it, is read
anew."""

from __future__ import annotations

import dataclasses

from podplane.api.core.v1 import core_pb2
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.framework.types import CycleState, PodInfo
from tests.unit.scheduler.placementtest import with_host_ports
from tests.unit.scheduler.schedtest import node, pod


def _on(p: core_pb2.Pod, node_name: str) -> core_pb2.Pod:
    copy = core_pb2.Pod()
    copy.CopyFrom(p)
    copy.spec.node_name = node_name
    return copy


def test_an_attempt_reads_its_pod_once_and_another_pod_anew() -> None:
    state = CycleState()
    p = with_host_ports(pod("web", cpu="1", labels={"app": "web"}), (80, "TCP", ""))
    info = state.pod_info(p)
    assert state.pod_info(p) is info and state.clone().pod_info(p) is info
    assert info.requests.milli_cpu == 1000 and [h.port for h in info.host_ports] == [80]
    updated = pod("web", cpu="2", uid=p.metadata.uid)
    assert state.pod_info(updated).requests.milli_cpu == 2000
    assert state.pod_info(updated).host_ports == ()


def test_the_assumed_pod_is_the_attempts_pod_info_on_its_node() -> None:
    p = pod("p", cpu="500m", labels={"app": "web"}, priority=7)
    assumed = _on(p, "a")
    info = CycleState().pod_info(p).with_pod(assumed)
    fresh = PodInfo.of(assumed)
    for f in dataclasses.fields(PodInfo):
        assert getattr(info, f.name) == getattr(fresh, f.name), f.name
    cache = SchedulerCache()
    cache.add_node(node("a"))
    cache.assume_pod(assumed, info)
    (on_a,) = cache.node_infos()
    assert on_a.pods[p.metadata.uid].pod is assumed
    assert (on_a.requested.milli_cpu, on_a.non_zero_requested.memory) == (500, 200 * 2**20)
    cache.forget_pod(assumed)
    assert (on_a.requested.milli_cpu, on_a.pods) == (0, {})
