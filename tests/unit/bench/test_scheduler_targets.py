"""The load test's throughput judged as clusterloader2 and scheduler_perf judge theirs."""

from __future__ import annotations

import pytest

from bench.scheduler.summary import summary_line
from bench.scheduler.targets import clusterloader2, scheduler_perf
from tests.unit.bench.scheduler_results import scheduler_result


def test_clusterloader2_takes_every_second_and_ranks_as_its_gather() -> None:
    # 10 samples; perc50 is the 5th smallest, perc90 the 9th, perc99 the 10th (ceil(n*p/100)).
    per_second = [0, 120, 380, 410, 300, 390, 395, 200, 100, 40]
    got = clusterloader2(per_second)
    assert got["samples"] == 10
    assert (got["perc50"], got["perc90"], got["perc99"], got["max"]) == (200, 395, 410, 410)
    assert got["met"]


@pytest.mark.parametrize("best, met", [(399, False), (400, True), (401, True)])
def test_clusterloader2_fails_only_when_its_best_second_is_below_the_threshold(
    best: int, met: bool
) -> None:
    assert clusterloader2([100, best, 300])["met"] is met


def test_scheduler_perf_averages_from_the_second_after_the_first_bind_to_the_last_full_one() -> (
    None
):
    # Two seconds before any bind, the baseline second (50), three samples, the partial last (7).
    per_second = [0, 0, 50, 600, 700, 800, 7]
    got = scheduler_perf(per_second)
    assert got["samples"] == 3 and got["average"] == 700
    assert got["met"]


@pytest.mark.parametrize("average, met", [(679, False), (680, False), (681, True)])
def test_scheduler_perf_fails_unless_its_average_is_above_the_threshold(
    average: int, met: bool
) -> None:
    assert scheduler_perf([10, average, average, 3])["met"] is met


def test_no_binds_meets_neither() -> None:
    assert not clusterloader2([])["met"]
    assert scheduler_perf([0, 0, 0]) == {
        "samples": 0,
        "average": 0.0,
        "threshold": 680.0,
        "met": False,
    }


def test_a_run_summary_gives_each_harness_verdict() -> None:
    per_second = [0, 50, 420, 390, 380, 9]
    result = scheduler_result(
        pods=1249,
        throughput={"average": 310.0, "peak": 420.0},
        targets={
            "clusterloader2": clusterloader2(per_second),
            "scheduler_perf": scheduler_perf(per_second),
        },
        bound=1249,
        cpu_percent_while_scheduling={"apiserver": 80.0},
    )
    line = summary_line(result)
    assert (
        "clusterloader2 best second 420 (>= 400: met), scheduler_perf average 397 (> 680: not met)"
    ) in line


def test_a_run_summary_gives_the_cpu_each_pod_cost_and_the_events_written() -> None:
    result = scheduler_result(
        pods=100,
        throughput={"average": 310.0, "peak": 420.0},
        bound=100,
        scheduled_events=97,
        cpu_percent_while_scheduling={"apiserver": 80.0, "scheduler": 60.0},
        cpu_ms_per_pod={"apiserver": 1.234, "scheduler": 0.9},
    )
    line = summary_line(result)
    assert "; Scheduled events 97;" in line
    assert "CPU apiserver 80%, scheduler 60% (per pod, ms: apiserver 1.23, scheduler 0.90)" in line
