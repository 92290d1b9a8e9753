"""NodeResourcesFit's default scoring strategy: prefer the node with the most left over, weighted
per resource (kubernetes plugins/noderesources/least_allocated.go)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scheduler.framework.node_table import Ints, NodeTable
from scheduler.framework.types import MAX_NODE_SCORE, NodeInfo
from scheduler.plugins.noderesources.resource_allocation import ResourceWeight, Scorer


def least_requested_score(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def least_allocated_cpu_memory(
    node: NodeInfo, pod_cpu: int, pod_memory: int, weights: tuple[int, int]
) -> int:
    """least_allocated_scorer's score for cpu and memory, with the pod's non-zero requests, read
    from the node without building lists."""
    allocatable, used = node.allocatable, node.non_zero_requested
    total = weight_sum = 0
    capacity, requested = allocatable.milli_cpu, used.milli_cpu + pod_cpu
    if capacity:
        if requested <= capacity:
            total += (capacity - requested) * MAX_NODE_SCORE // capacity * weights[0]
        weight_sum += weights[0]
    capacity, requested = allocatable.memory, used.memory + pod_memory
    if capacity:
        if requested <= capacity:
            total += (capacity - requested) * MAX_NODE_SCORE // capacity * weights[1]
        weight_sum += weights[1]
    return total // weight_sum if weight_sum else 0


def least_allocated_cpu_memory_table(
    table: NodeTable, rows: Ints, pod_cpu: int, pod_memory: int, weights: tuple[int, int]
) -> Ints:
    """least_allocated_cpu_memory for the nodes of `rows`, in bulk."""
    total = np.zeros(len(rows), np.int64)
    weight_sum = np.zeros(len(rows), np.int64)
    for capacity, used, pod_request, weight in (
        (table.allocatable_milli_cpu[rows], table.non_zero_milli_cpu[rows], pod_cpu, weights[0]),
        (table.allocatable_memory[rows], table.non_zero_memory[rows], pod_memory, weights[1]),
    ):
        requested = used + pod_request
        counted = capacity > 0
        left = (capacity - requested) * MAX_NODE_SCORE // np.where(counted, capacity, 1)
        total += np.where(counted & (requested <= capacity), left, 0) * weight
        weight_sum += np.where(counted, weight, 0)
    return np.where(weight_sum > 0, total // np.maximum(weight_sum, 1), 0)


def least_allocated_scorer(resources: Sequence[ResourceWeight]) -> Scorer:
    def scorer(requested: Sequence[int], allocatable: Sequence[int]) -> int:
        total = weights = 0
        for r, req, alloc in zip(resources, requested, allocatable, strict=True):
            if alloc == 0:
                continue
            total += least_requested_score(req, alloc) * r.weight
            weights += r.weight
        return total // weights if weights else 0

    return scorer
