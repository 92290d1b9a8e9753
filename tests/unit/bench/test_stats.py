"""Percentiles and throughput as the benchmark reports them."""

from __future__ import annotations

import math

import pytest

from bench.common.stats import percentile, summarize
from bench.common.workers import spread


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([5.0], 99, 5.0),
        ([1.0, 2.0], 50, 1.5),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([float(i) for i in range(1, 101)], 99, 99.01),  # numpy.percentile(range(1, 101), 99)
        ([float(i) for i in range(1, 101)], 90, 90.1),
        ([float(i) for i in range(1, 1001)], 99, 990.01),
    ],
)
def test_percentile_interpolates_between_nearest_ranks(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_nan_and_out_of_range_is_rejected() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_counts_rate_and_percentiles_of_unsorted_latencies() -> None:
    latencies = [0.004, 0.001, 0.003, 0.002] * 250  # 1000 operations
    s = summarize(latencies, seconds=10.0, errors=2)
    assert (s.count, s.per_second, s.errors) == (1000, 100.0, 2)
    assert s.p50 == pytest.approx(0.0025)
    assert s.p99 == pytest.approx(0.004)
    assert s.max == 0.004


def test_empty_summary_serializes_missing_percentiles_as_null() -> None:
    assert summarize([], seconds=5.0).to_json() == {
        "count": 0,
        "seconds": 5.0,
        "per_second": 0.0,
        "p50": None,
        "p90": None,
        "p99": None,
        "max": None,
        "errors": 0,
    }


@pytest.mark.parametrize(
    ("total", "processes", "expected"),
    [
        (1, 4, [1]),
        (10, 4, [3, 3, 2, 2]),
        (100, 4, [25, 25, 25, 25]),
        (1000, 3, [334, 333, 333]),
    ],
)
def test_clients_are_spread_evenly_over_processes(
    total: int, processes: int, expected: list[int]
) -> None:
    assert spread(total, processes) == expected
