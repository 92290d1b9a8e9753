"""`podplane-bench scheduler --repeat N`: each run's file, and their median and spread judged
against scheduler_perf's floor for the workload and twice it."""

from __future__ import annotations

from bench.scheduler.options import Options
from bench.scheduler.repeat import run_file, summarize, summary_line
from podplane.apimachinery.json_types import JSONObject


def result(average: float, complete: bool = True) -> JSONObject:
    return {"targets": {"scheduler_perf": {"average": average}}, "complete": complete}


def test_each_run_has_a_file_of_its_own() -> None:
    assert run_file("build/bench/scheduler.json", 2) == "build/bench/scheduler-2.json"


def test_the_median_of_three_with_the_spread_against_the_floor_and_the_goal() -> None:
    options = Options(nodes=5000, pods=10000, workload="mixed-churn")
    files = ["a", "b", "c"]
    summary = summarize(options, [result(1500), result(1300), result(1450)], files)
    assert (summary["median"], summary["min"], summary["max"]) == (1450, 1300, 1500)
    assert (summary["floor"], summary["goal"]) == (710, 1420)
    assert summary["floor_met"] and summary["goal_met"]
    assert summary_line(summary) == (
        "mixed-churn 5000 nodes / 10000 pods, 3 runs: median 1450 pods/s (1300-1500); "
        "scheduler_perf's floor 710: met; goal 1420: met"
    )


def test_an_incomplete_run_fails_the_floor() -> None:
    options = Options(workload="basic")
    summary = summarize(options, [result(2000), result(2000, complete=False)], ["a", "b"])
    assert summary["floor"] == 680 and not summary["floor_met"] and summary["goal_met"]


def test_a_run_without_verdicts_or_without_a_result() -> None:
    options = Options(workload="preemption")
    preemption = {"throughput": {"average": 400.0}, "complete": True}
    summary = summarize(options, [preemption, {}, result(300)], ["a", "b", "c"])
    assert [r["average"] for r in summary["runs"]] == [400.0, 0.0, 300.0]
    assert summary["median"] == 300 and not summary["floor_met"]
