"""What the scheduler load test computes from the times it observed: throughput (average and per
second, as scheduler_perf's throughput collector samples it), and the creation-to-bind latency
percentiles and histogram."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from bench.common.stats import percentile


class ThroughputJson(TypedDict):
    average: float
    peak: float
    p50_of_seconds: float
    seconds: float
    per_second: list[int]


@dataclass(frozen=True)
class Throughput:
    """Pods bound per second: over the whole run (first create to last bind) and per 1 s bucket."""

    average: float
    # Of the busy buckets: every full second from the first bind to the last.
    peak: float
    p50_of_seconds: float
    per_second: tuple[int, ...]
    seconds: float

    def to_json(self) -> ThroughputJson:
        return {
            "average": self.average,
            "peak": self.peak,
            "p50_of_seconds": self.p50_of_seconds,
            "seconds": self.seconds,
            "per_second": list(self.per_second),
        }


def throughput(start: float, bound_at: Sequence[float], bucket: float = 1.0) -> Throughput:
    """`bound_at`: when each pod was seen bound, on the clock `start` (the first create) is on."""
    if not bound_at:
        return Throughput(0.0, 0.0, 0.0, (), 0.0)
    end = max(bound_at)
    seconds = max(end - start, 1e-9)
    buckets = [0] * (int((end - start) // bucket) + 1)
    for t in bound_at:
        buckets[max(0, int((t - start) // bucket))] += 1
    first = next(i for i, n in enumerate(buckets) if n)
    # The last bucket is partial; leave it out of the per-second figures unless it is the only one.
    busy = buckets[first:-1] or buckets[first:]
    rates = sorted(n / bucket for n in busy)
    return Throughput(
        average=len(bound_at) / seconds,
        peak=rates[-1],
        p50_of_seconds=percentile(rates, 50),
        per_second=tuple(buckets),
        seconds=seconds,
    )


def latencies(created_at: Mapping[str, float], bound_at: Mapping[str, float]) -> list[float]:
    """Seconds from each pod's Create call to its bind being seen, for the pods that were bound."""
    return sorted(bound_at[name] - created_at[name] for name in bound_at if name in created_at)


def latency_summary(values: Sequence[float]) -> dict[str, float | None]:
    ordered = sorted(values)

    def clean(v: float) -> float | None:
        return None if math.isnan(v) else v

    return {
        "count": len(ordered),
        "p50": clean(percentile(ordered, 50)),
        "p90": clean(percentile(ordered, 90)),
        "p99": clean(percentile(ordered, 99)),
        "max": ordered[-1] if ordered else None,
    }


def histogram(values: Sequence[float], bins: int = 40) -> tuple[list[float], list[int]]:
    """Equal-width bins from 0 to the largest value: (bin edges, counts)."""
    if not values:
        return [], []
    top = max(values) or 1.0
    width = top / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v / width))] += 1
    return [i * width for i in range(bins + 1)], counts
