"""NodeResourcesFit's default scoring strategy: prefer the node with the most left over, weighted
per resource (kubernetes plugins/noderesources/least_allocated.go)."""
from __future__ import annotations

from collections.abc import Sequence

from scheduler.framework.types import MAX_NODE_SCORE
from scheduler.plugins.resource_allocation import ResourceWeight, Scorer


def least_requested_score(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


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
