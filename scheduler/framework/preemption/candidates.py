"""Preemption candidates, and which one wins (kubernetes framework/preemption
pickOneNodeForPreemption, and pkg/scheduler/util MoreImportantPod, GetEarliestPodStartTime).

A candidate is a node with the pods to evict there (most important first) and how many of them
would break a PodDisruptionBudget. The winner, each rule breaking the ties of the one before:
1. the fewest PDB violations;
2. the lowest priority of its most important victim;
3. the smallest sum of the victims' priorities;
4. the fewest victims;
5. the latest start among its most important victims (the most recently started work is lost);
6. the first in the order the candidates were found."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from scheduler.framework.status import Status
from scheduler.framework.types import pod_priority

# Added to every priority before summing, so that all are positive: a node with a few pods of a
# negative priority must not beat one with fewer pods of the same priority.
_PRIORITY_OFFSET = 2**31


# The victims on a node (most important first) and how many of them break a budget, with
# success; or no victims, and the status saying why no eviction makes the pod fit there.
Victims = tuple[list[core_pb2.Pod], int, Status]


@dataclass(frozen=True)
class Candidate:
    node_name: str
    # Most important first.
    victims: tuple[core_pb2.Pod, ...]
    pdb_violations: int = 0


def pod_start_time(pod: core_pb2.Pod, now: datetime) -> datetime:
    """status.startTime; `now` for a pod that has not started (assumed, or bound and starting)."""
    return timeutil.parse(pod.status.start_time) or now


def importance(pod: core_pb2.Pod, now: datetime) -> tuple[int, datetime]:
    """Sorting by this puts the more important pods first: higher priority, then the one running
    longer (kubernetes MoreImportantPod)."""
    return (-pod_priority(pod), pod_start_time(pod, now))


def earliest_start_of_highest_priority(victims: Sequence[core_pb2.Pod], now: datetime) -> datetime:
    """The earliest start time among the victims of the highest priority."""
    top = max(pod_priority(v) for v in victims)
    return min(pod_start_time(v, now) for v in victims if pod_priority(v) == top)


def _score_funcs(now: datetime) -> list[Callable[[Candidate], float]]:
    """Higher is better, in the order of the rules above."""

    def fewest_violations(c: Candidate) -> float:
        return -c.pdb_violations

    def lowest_top_priority(c: Candidate) -> float:
        return -pod_priority(c.victims[0])

    def smallest_priority_sum(c: Candidate) -> float:
        return -sum(pod_priority(v) + _PRIORITY_OFFSET for v in c.victims)

    def fewest_victims(c: Candidate) -> float:
        return -len(c.victims)

    def latest_start(c: Candidate) -> float:
        if not c.victims:
            return -math.inf
        return earliest_start_of_highest_priority(c.victims, now).timestamp()

    return [
        fewest_violations,
        lowest_top_priority,
        smallest_priority_sum,
        fewest_victims,
        latest_start,
    ]


def pick_one(candidates: Sequence[Candidate], now: datetime | None = None) -> Candidate | None:
    """The candidate the rules prefer; None when there is none."""
    remaining = list(candidates)
    if not remaining:
        return None
    for score in _score_funcs(now or datetime.now(UTC)):
        if len(remaining) == 1:
            break
        scores = [score(c) for c in remaining]
        best = max(scores)
        remaining = [c for c, s in zip(remaining, scores, strict=True) if s == best]
    return remaining[0]
