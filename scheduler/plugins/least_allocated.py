"""NodeResourcesFit's default scoring strategy: prefer the node with the most left over, weighted
per resource (kubernetes plugins/noderesources/least_allocated.go)."""
from __future__ import annotations

from collections.abc import Sequence

from scheduler.framework.types import MAX_NODE_SCORE, NodeInfo
from scheduler.plugins.resource_allocation import ResourceWeight, Scorer


def least_requested_score(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def least_allocated_cpu_memory(node: NodeInfo, pod_cpu: int, pod_memory: int,
                               weights: tuple[int, int]) -> int:
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


def least_allocated_scorer(resources: Sequence[ResourceWeight]) -> Scorer:
    def scorer(requested: Sequence[int], allocatable: Sequence[int]) -> int:
        total = weights = 0
        for r, req, alloc in zip(resources, requested, allocatable):
            if alloc == 0:
                continue
            total += least_requested_score(req, alloc) * r.weight
            weights += r.weight
        return total // weights if weights else 0
    return scorer
