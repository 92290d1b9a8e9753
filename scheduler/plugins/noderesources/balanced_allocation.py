"""Prefers nodes where the pod leaves cpu and memory equally used, so neither runs out while the
other idles (kubernetes plugins/noderesources/balanced_allocation.go)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from podplane.api.core.v1 import core_pb2
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.node_table import Ints, NodeTable
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import MAX_NODE_SCORE, CycleState, NodeInfo
from scheduler.plugins.noderesources import resource_allocation

NAME = "NodeResourcesBalancedAllocation"
_PRE_SCORE_KEY = "PreScore" + NAME


def balanced_resource_scorer(requested: Sequence[int], allocatable: Sequence[int]) -> int:
    """(1 - the standard deviation of the used fractions) * 100."""
    fractions = [
        min(req / alloc, 1.0) for req, alloc in zip(requested, allocatable, strict=True) if alloc
    ]
    std = 0.0
    if len(fractions) == 2:
        std = abs(fractions[0] - fractions[1]) / 2
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    return int((1 - std) * MAX_NODE_SCORE)


def balanced_cpu_memory(node: NodeInfo, pod_cpu: int, pod_memory: int) -> int:
    """balanced_resource_scorer for cpu and memory, read from the node without building lists."""
    allocatable, used = node.allocatable, node.requested
    cpu, memory = allocatable.milli_cpu, allocatable.memory
    if not (cpu and memory):
        return MAX_NODE_SCORE  # one fraction or none: no deviation
    std = (
        abs(
            min((used.milli_cpu + pod_cpu) / cpu, 1.0)
            - min((used.memory + pod_memory) / memory, 1.0)
        )
        / 2
    )
    return int((1 - std) * MAX_NODE_SCORE)


def balanced_cpu_memory_table(table: NodeTable, rows: Ints, pod_cpu: int, pod_memory: int) -> Ints:
    """balanced_cpu_memory for the nodes of `rows`, in bulk (the same float operations in the same
    order, so the same scores)."""
    cpu, memory = table.allocatable_milli_cpu[rows], table.allocatable_memory[rows]
    both = (cpu > 0) & (memory > 0)
    cpu_fraction = np.minimum(
        (table.requested_milli_cpu[rows] + pod_cpu) / np.where(both, cpu, 1), 1.0
    )
    memory_fraction = np.minimum(
        (table.requested_memory[rows] + pod_memory) / np.where(both, memory, 1), 1.0
    )
    std = np.abs(cpu_fraction - memory_fraction) / 2
    return np.where(both, ((1 - std) * MAX_NODE_SCORE).astype(np.int64), MAX_NODE_SCORE)


class NodeResourcesBalancedAllocation:
    name = NAME

    def __init__(self, resources: tuple[resource_allocation.ResourceWeight, ...]) -> None:
        self.resources = resources
        self._cpu_memory = resource_allocation.cpu_memory_weights(resources) is not None

    def pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]) -> Status:
        requests = resource_allocation.pod_request_list(
            state.pod_info(pod), self.resources, use_requested=True
        )
        if not any(requests):
            # A best-effort pod would otherwise pile onto whichever node is already balanced.
            return Status.skip()
        state.write(_PRE_SCORE_KEY, resource_allocation.PodRequestList(requests))
        return SUCCESS

    def score(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> tuple[int, Status]:
        requests = state.read(_PRE_SCORE_KEY, resource_allocation.PodRequestList)
        if requests is None:
            return 0, Status.error(f"{NAME}: PreScore state is missing")
        if self._cpu_memory:
            return balanced_cpu_memory(node, requests[0], requests[1]), SUCCESS
        return resource_allocation.score(
            node, requests, self.resources, balanced_resource_scorer, use_requested=True
        ), SUCCESS

    def score_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable, rows: Ints
    ) -> Ints | None:
        requests = state.read(_PRE_SCORE_KEY, resource_allocation.PodRequestList)
        if requests is None or not self._cpu_memory:
            return None
        # Kept with the table, as NodeResourcesFit's scores: see there.
        cpu, memory = requests[0], requests[1]
        scores = table.derived(
            (_PRE_SCORE_KEY, cpu, memory),
            functools.partial(balanced_cpu_memory, pod_cpu=cpu, pod_memory=memory),
            functools.partial(balanced_cpu_memory_table, pod_cpu=cpu, pod_memory=memory),
        )
        return scores[rows]


def new(args: PluginArgs) -> NodeResourcesBalancedAllocation:
    return NodeResourcesBalancedAllocation(resource_allocation.resources_from_args(args, NAME))
