"""The load test's PNG: pods bound per second over the run, against the targets, and the
creation-to-bind latency histogram (matplotlib, headless)."""

from __future__ import annotations

import itertools
import os

from bench.scheduler.targets import CLUSTERLOADER2_THRESHOLD, SCHEDULER_PERF_THRESHOLD
from podplane.apimachinery.json_types import JSONObject

# The targets the issue names: clusterloader2's scheduler-throughput floor and kube-scheduler's CI
# floor for SchedulingBasic 5000 nodes / 10000 pods.
TARGETS = (
    (CLUSTERLOADER2_THRESHOLD, "clusterloader2 floor 400/s (its best second)"),
    (SCHEDULER_PERF_THRESHOLD, "scheduler_perf floor 680/s (its average)"),
)


def write_png(result: JSONObject, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tp, lat = result["throughput"], result["latency"]
    title = (
        f"{result['workload']}: {result['nodes']} nodes, {result['pods']} pods: "
        f"{tp['average']:.0f} pods/s average, p99 {fmt_s(lat['p99'])}"
    )
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), constrained_layout=True)
    fig.suptitle(title, fontsize=11)
    per_second = tp["per_second"]
    top.bar(
        range(len(per_second)),
        per_second,
        width=1.0,
        align="edge",
        color="#4c72b0",
        label="pods bound in that second",
    )
    top.axhline(
        tp["average"],
        color="black",
        linestyle="-",
        linewidth=1,
        label=f"average {tp['average']:.0f}/s",
    )
    targets = result.get("targets") or {}
    floor = targets.get("scheduler_perf", {}).get("threshold", SCHEDULER_PERF_THRESHOLD)
    lines = [
        (value, label)
        if value != SCHEDULER_PERF_THRESHOLD
        else (floor, f"scheduler_perf floor {floor:.0f}/s (its average)")
        for value, label in TARGETS
    ]
    for value, label in lines:
        top.axhline(value, color="#c44e52", linestyle="--", linewidth=1, alpha=0.7)
        top.text(0, value, f" {label}", va="bottom", fontsize=8, color="#c44e52")
    top.set_xlabel(f"seconds since {result.get('throughput_from', 'the first Create')}")
    top.set_ylabel("pods/s")
    top.legend(loc="upper right", fontsize=8)
    edges, counts = result["latency_histogram"]["edges"], result["latency_histogram"]["counts"]
    if counts:
        widths = [b - a for a, b in itertools.pairwise(edges)]
        bottom.bar(edges[:-1], counts, width=widths, align="edge", color="#55a868")
    for key, style in (("p50", ":"), ("p90", "--"), ("p99", "-")):
        if lat[key] is not None:
            bottom.axvline(
                lat[key],
                color="black",
                linestyle=style,
                linewidth=1,
                label=f"{key} {fmt_s(lat[key])}",
            )
    bottom.set_xlabel("creation to bind (s)")
    bottom.set_ylabel("pods")
    bottom.legend(loc="upper right", fontsize=8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
