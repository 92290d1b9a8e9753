"""Builders for the placement plugins' unit tests: labels, host ports, topology spread constraints,
pod (anti-)affinity terms and node images, on top of schedtest's pods and nodes."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from scheduler.algorithm import SchedulingAlgorithm
from scheduler.framework.runtime import Framework, PluginSpec, Profile
from scheduler.framework.status import Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins import in_tree_registry
from tests.unit.scheduler import schedtest


def labeled(p: core_pb2.Pod, **labels: str) -> core_pb2.Pod:
    p.metadata.labels.update(labels)
    return p


def pod(name: str = "p", labels: Mapping[str, str] | None = None, **kw: Any) -> core_pb2.Pod:
    return labeled(schedtest.pod(name, **kw), **dict(labels or {}))


def zone_node(name: str, zone: str | None = None, **labels: str) -> core_pb2.Node:
    extra = {"zone": zone} if zone is not None else {}
    return schedtest.node(name, labels={**extra, **labels})


def selector(**match_labels: str) -> meta_pb2.LabelSelector:
    return meta_pb2.LabelSelector(match_labels=match_labels)


def with_host_ports(p: core_pb2.Pod, *ports: tuple[int, str, str]) -> core_pb2.Pod:
    """Adds (hostPort, protocol, hostIP) ports to the pod's first container."""
    for host_port, protocol, host_ip in ports:
        p.spec.containers[0].ports.add(
            container_port=host_port, host_port=host_port, protocol=protocol, host_ip=host_ip
        )
    return p


def with_spread(
    p: core_pb2.Pod,
    *,
    max_skew: int = 1,
    key: str = "zone",
    when: str = "DoNotSchedule",
    match: Mapping[str, str] | None = None,
    min_domains: int | None = None,
) -> core_pb2.Pod:
    c = p.spec.topology_spread_constraints.add(
        max_skew=max_skew, topology_key=key, when_unsatisfiable=when
    )
    if match is not None:
        c.label_selector.CopyFrom(selector(**match))
    if min_domains is not None:
        c.min_domains = min_domains
    return p


def term(
    key: str = "kubernetes.io/hostname",
    *,
    match: Mapping[str, str] | None = None,
    namespaces: Sequence[str] = (),
    all_namespaces: bool = False,
) -> core_pb2.PodAffinityTerm:
    t = core_pb2.PodAffinityTerm(topology_key=key, namespaces=list(namespaces))
    if match is not None:
        t.label_selector.CopyFrom(selector(**match))
    if all_namespaces:
        t.namespace_selector.SetInParent()
    return t


def with_affinity(
    p: core_pb2.Pod,
    *,
    required: Sequence[core_pb2.PodAffinityTerm] = (),
    anti: Sequence[core_pb2.PodAffinityTerm] = (),
    preferred: Sequence[tuple[int, core_pb2.PodAffinityTerm]] = (),
    preferred_anti: Sequence[tuple[int, core_pb2.PodAffinityTerm]] = (),
) -> core_pb2.Pod:
    a = p.spec.affinity
    for t in required:
        a.pod_affinity.required_during_scheduling_ignored_during_execution.append(t)
    for t in anti:
        a.pod_anti_affinity.required_during_scheduling_ignored_during_execution.append(t)
    for w, t in preferred:
        a.pod_affinity.preferred_during_scheduling_ignored_during_execution.add(
            weight=w, pod_affinity_term=t
        )
    for w, t in preferred_anti:
        a.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution.add(
            weight=w, pod_affinity_term=t
        )
    return p


def with_images(n: core_pb2.Node, *images: tuple[Sequence[str], int]) -> core_pb2.Node:
    for names, size in images:
        n.status.images.add(names=list(names), size_bytes=size)
    return n


def cluster(*nodes: tuple[core_pb2.Node, Sequence[core_pb2.Pod]]) -> list[NodeInfo]:
    """NodeInfos of (node, pods placed on it)."""
    return [schedtest.node_info(n, *pods) for n, pods in nodes]


def state_for(nodes: Sequence[NodeInfo]) -> CycleState:
    s = CycleState()
    s.all_nodes = nodes
    return s


def filter_all(plugin: Any, p: core_pb2.Pod, nodes: list[NodeInfo]) -> dict[str, Status]:
    """PreFilter, then Filter on every node unless PreFilter said Skip (then all succeed)."""
    state = state_for(nodes)
    status = plugin.pre_filter(state, p)
    if status.is_skip:
        return {n.name: Status() for n in nodes}
    assert status.is_success, status
    return {n.name: plugin.filter(state, p, n) for n in nodes}


def score_all(
    plugin: Any, p: core_pb2.Pod, nodes: list[NodeInfo], feasible: list[NodeInfo] | None = None
) -> dict[str, int] | None:
    """PreScore, Score and NormalizeScore over `feasible` (default: all); None when skipped."""
    state = state_for(nodes)
    feasible = nodes if feasible is None else feasible
    status = plugin.pre_score(state, p, feasible)
    if status.is_skip:
        return None
    assert status.is_success, status
    scores = {}
    for n in feasible:
        score, status = plugin.score(state, p, n)
        assert status.is_success, status
        scores[n.name] = score
    if hasattr(plugin, "normalize_score"):
        assert plugin.normalize_score(state, p, scores).is_success
    return scores


def only(*names: str) -> Framework:
    """A framework with just these in-tree plugins (weight 1)."""
    return Framework(in_tree_registry(), Profile(plugins=tuple(PluginSpec(n) for n in names)))


def algorithm(framework: Framework) -> SchedulingAlgorithm:
    return SchedulingAlgorithm(framework, random.Random(1))
