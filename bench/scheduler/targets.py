"""The load test's pods bound per second, judged the way the two Kubernetes harnesses that set its
targets judge theirs. Both sample the count of scheduled pods once a second; they differ in which
samples they keep and in the figure they compare with their threshold.

- clusterloader2's SchedulingThroughput (perf-tests clusterloader2/pkg/measurement/common/
  scheduling_throughput.go), used by testing/scheduler-throughput/config.yaml, which creates
  5000 pods at a uniform 500 per second (`--rate 500` here) with threshold 400: every 1 s sample
  from the start of the measurement, summarized as perc50/perc90/perc99/max (the sorted sample at
  rank ceil(n * p / 100)); the test fails when max < threshold.
- scheduler_perf's throughputCollector (kubernetes test/integration/scheduler_perf/util.go), with
  SchedulingBasic 5000 nodes / 10000 pods' threshold 680 (misc/performance-config.yaml): samples
  start once some pod is scheduled, the first of them skipped (it only sets the baseline), and
  stop when the last pod is scheduled; the test fails when their Average <= threshold."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypedDict

CLUSTERLOADER2_THRESHOLD = 400.0
SCHEDULER_PERF_THRESHOLD = 680.0


class Clusterloader2Verdict(TypedDict):
    """The samples' ranks as its gather reports them; met when the best second reaches the
    threshold."""

    samples: int
    perc50: float
    perc90: float
    perc99: float
    max: float
    threshold: float
    met: bool


class SchedulerPerfVerdict(TypedDict):
    """The samples' average; met when it is above the threshold."""

    samples: int
    average: float
    threshold: float
    met: bool


class Targets(TypedDict):
    """A run's verdict by each harness (the result's "targets")."""

    clusterloader2: Clusterloader2Verdict
    scheduler_perf: SchedulerPerfVerdict


def _rank(ordered: Sequence[float], p: int) -> float:
    return ordered[math.ceil(len(ordered) * p / 100) - 1]


def clusterloader2(
    per_second: Sequence[int], threshold: float = CLUSTERLOADER2_THRESHOLD
) -> Clusterloader2Verdict:
    """`per_second`: pods bound in each second from the first Create (the last second partial,
    as the harness's next tick would count it)."""
    ordered = sorted(float(n) for n in per_second)
    if not ordered:
        return {
            "samples": 0,
            "perc50": 0.0,
            "perc90": 0.0,
            "perc99": 0.0,
            "max": 0.0,
            "threshold": threshold,
            "met": False,
        }
    return {
        "samples": len(ordered),
        "perc50": _rank(ordered, 50),
        "perc90": _rank(ordered, 90),
        "perc99": _rank(ordered, 99),
        "max": ordered[-1],
        "threshold": threshold,
        "met": ordered[-1] >= threshold,
    }


def scheduler_perf(
    per_second: Sequence[int], threshold: float = SCHEDULER_PERF_THRESHOLD
) -> SchedulerPerfVerdict:
    """`per_second` as for clusterloader2: the seconds before the first bind, the first second
    with one (the baseline) and the last, partial second are not samples."""
    first = next((i for i, n in enumerate(per_second) if n), None)
    samples = [] if first is None else list(per_second[first + 1 : -1])
    average = sum(samples) / len(samples) if samples else 0.0
    return {
        "samples": len(samples),
        "average": average,
        "threshold": threshold,
        "met": average > threshold,
    }
