"""`podplane-bench scheduler --repeat N`: the same load test N times in a row, each run's result in
a file of its own (OUT-1.json ...), and the median of their scheduler_perf averages (the figure
its floors judge) with the spread in OUT, against scheduler_perf's floor for the workload and
twice that floor, the project's goal."""

from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path

from bench.scheduler import loadtest
from bench.scheduler.options import Options
from bench.scheduler.targets import SCHEDULER_PERF_THRESHOLD
from bench.scheduler.workloads import SCHEDULER_PERF_FLOORS
from podplane.apimachinery.json_types import JSONObject


def run_file(path: str, index: int) -> str:
    p = Path(path)
    return str(p.with_name(f"{p.stem}-{index}{p.suffix}"))


def average(result: JSONObject) -> float:
    """scheduler_perf's average, or the run's own where it has no verdicts (preemption); 0 for a
    run that wrote no result."""
    if not result:
        return 0.0
    targets = result.get("targets")
    if targets:
        return float(targets["scheduler_perf"]["average"])
    return float(result["throughput"]["average"])


def summarize(options: Options, results: list[JSONObject], files: list[str]) -> JSONObject:
    averages = [average(r) for r in results]
    floor = SCHEDULER_PERF_FLOORS.get(options.workload, SCHEDULER_PERF_THRESHOLD)
    median = statistics.median(averages)
    return {
        "workload": options.workload,
        "nodes": options.nodes,
        "pods": options.pods,
        "runs": [
            {"out": f, "average": a, "complete": bool(r.get("complete"))}
            for f, a, r in zip(files, averages, results, strict=True)
        ],
        "median": median,
        "min": min(averages),
        "max": max(averages),
        "floor": floor,
        "floor_met": all(bool(r.get("complete")) for r in results) and median > floor,
        "goal": 2 * floor,
        "goal_met": median >= 2 * floor,
    }


def summary_line(summary: JSONObject) -> str:
    runs = summary["runs"]
    return (
        f"{summary['workload']} {summary['nodes']} nodes / {summary['pods']} pods, "
        f"{len(runs)} runs: median {summary['median']:.0f} pods/s "
        f"({summary['min']:.0f}-{summary['max']:.0f}); scheduler_perf's floor "
        f"{summary['floor']:.0f}: {'met' if summary['floor_met'] else 'NOT met'}; goal "
        f"{summary['goal']:.0f}: {'met' if summary['goal_met'] else 'not met'}"
    )


def run(options: Options, repeat: int) -> int:
    files, results, code = [], [], 0
    for index in range(1, repeat + 1):
        out = run_file(options.out, index)
        plot = run_file(options.plot, index) if options.plot else None
        Path(out).unlink(missing_ok=True)
        code = max(code, loadtest.run(dataclasses.replace(options, out=out, plot=plot)))
        files.append(out)
        # A run that failed before its result (the error printed) counts as 0 pods/s.
        results.append(json.loads(Path(out).read_text()) if Path(out).exists() else {})
    summary = summarize(options, results, files)
    Path(options.out).write_text(json.dumps(summary, indent=2) + "\n")
    print(summary_line(summary))
    return code
