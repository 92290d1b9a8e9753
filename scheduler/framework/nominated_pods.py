"""Filtering a node that pods are nominated to (kubernetes framework/runtime
RunFilterPluginsWithNominatedPods and addGENominatedPods).

Room preemption is making on a node is for the pod nominated there: a pod of the same or lower
priority must not take it. So the filters run twice on such a node: first with the nominated pods
of equal or higher priority counted as if running (resources and anti-affinity are more likely to
fail), then, if that passes, without them (pod affinity is more likely to fail, and they may yet
go elsewhere). A pod of higher priority than every nominated pod is judged on the node as it is,
and may take the room: the nominated pods yield to it."""

from __future__ import annotations

from typing import Protocol

from podplane.api.core.v1 import core_pb2
from scheduler.framework.interfaces import PodNominator
from scheduler.framework.status import Status
from scheduler.framework.types import CycleState, NodeInfo, PodInfo, pod_priority


class _Framework(Protocol):
    @property
    def nominator(self) -> PodNominator | None: ...

    def run_filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status: ...

    def run_pre_filter_extension_add_pod(
        self, state: CycleState, pod: core_pb2.Pod, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status: ...

    def has_pre_filter_extensions(self, state: CycleState) -> bool: ...


class NominatedPodsFilter:
    def __init__(self, framework: _Framework) -> None:
        self._framework = framework

    def run(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        with_nominated = self._add_nominated_pods(state, pod, node)
        if isinstance(with_nominated, Status):
            return with_nominated
        if with_nominated is None:
            return self._framework.run_filter(state, pod, node)
        state_with, node_with = with_nominated
        status = self._framework.run_filter(state_with, pod, node_with)
        if not status.is_success:
            return status
        return self._framework.run_filter(state, pod, node)

    def _add_nominated_pods(
        self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo
    ) -> tuple[CycleState, NodeInfo] | Status | None:
        """Copies of the state and the node with the pods nominated there that `pod` yields to;
        None when there are none, a Status when a PreFilter extension failed."""
        nominator = self._framework.nominator
        if nominator is None:
            return None
        nominated = nominator.nominated_pods_for_node(node.name)
        if not nominated:
            return None
        priority, uid = pod_priority(pod), pod.metadata.uid
        out: tuple[CycleState, NodeInfo] | None = None
        for info in nominated:
            if info.priority < priority or info.uid == uid:
                continue
            if out is None:
                # The state is copied only if a PreFilter extension will change it.
                extended = self._framework.has_pre_filter_extensions(state)
                out = (state.clone() if extended else state, node.snapshot())
            out[1].add_pod(info)
            status = self._framework.run_pre_filter_extension_add_pod(out[0], pod, info, out[1])
            if not status.is_success:
                return status
        return out
