"""Latency percentiles and throughput over a measured window."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

PERCENTILES = (50.0, 90.0, 99.0)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, interpolating linearly between the two
    nearest ranks (numpy's default). NaN for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0-100")
    if not sorted_values:
        return math.nan
    rank = (len(sorted_values) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = rank - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


@dataclass(frozen=True)
class Summary:
    """Operations completed in a measured window: count, rate and latency percentiles in seconds."""

    count: int
    seconds: float
    per_second: float
    p50: float
    p90: float
    p99: float
    max: float
    errors: int = 0

    def to_json(self) -> dict[str, float | None]:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def summarize(latencies: Iterable[float], seconds: float, errors: int = 0) -> Summary:
    """`latencies` of the operations that started inside a window of `seconds`."""
    values = sorted(latencies)
    return Summary(
        count=len(values),
        seconds=seconds,
        per_second=len(values) / seconds if seconds > 0 else math.nan,
        p50=percentile(values, 50),
        p90=percentile(values, 90),
        p99=percentile(values, 99),
        max=values[-1] if values else math.nan,
        errors=errors,
    )
