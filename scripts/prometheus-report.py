#!/usr/bin/env python3
"""What the compose cluster's Prometheus recorded while a benchmark ran: every recording rule
(docker/prometheus/rules.yml: API latency p99 by verb, pod start-up p99, scheduling attempts and
latency, work queue depth, ...) over the window, each series' peak and last value, written as JSON
and printed, with a link to the graphs of the window. Standard library only.

    scripts/prometheus-report.py --since EPOCH [--until EPOCH] [--url URL] [--out FILE]

Exits 0 with a note when Prometheus does not answer: a benchmark's result never depends on it."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, TypedDict

# The panels of the graph link: the SLO figures a benchmark moves.
GRAPHS = (
    "cluster_quantile:kubelet_pod_start_duration_seconds:histogram_quantile",
    "result:scheduler_schedule_attempts_total:rate2m",
    "cluster_quantile:scheduler_pod_scheduling_sli_duration_seconds:histogram_quantile",
    "cluster_quantile:apiserver_request_duration_seconds:histogram_quantile",
    "code_verb:apiserver_request_total:rate2m",
    "job_name:workqueue_depth:sum",
)


class SeriesSummary(TypedDict):
    labels: dict[str, str]
    max: float | None
    last: float | None
    samples: int


class Report(TypedDict):
    prometheus: str
    since: float
    until: float
    step_seconds: float
    graphs: str
    rules: dict[str, list[SeriesSummary]]


def get(url: str, path: str, **params: str) -> Any:
    """The `data` of a Prometheus API answer, as decoded JSON."""
    with urllib.request.urlopen(
        f"{url}/api/v1/{path}?{urllib.parse.urlencode(params)}", timeout=30
    ) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body.get('error', body)}")
    return body["data"]


def series_summary(result: dict[str, Any]) -> SeriesSummary:
    values = [float(v) for _, v in result["values"]]
    finite = [v for v in values if math.isfinite(v)]
    return {
        "labels": {k: v for k, v in result["metric"].items() if k != "__name__"},
        "max": max(finite) if finite else None,
        "last": finite[-1] if finite else None,
        "samples": len(finite),
    }


def graph_link(url: str, since: float, until: float) -> str:
    end = datetime.datetime.fromtimestamp(until, datetime.UTC)
    end_input = end.strftime("%Y-%m-%d %H:%M:%S")
    params: dict[str, str] = {}
    for i, expr in enumerate(GRAPHS):
        params |= {
            f"g{i}.expr": expr,
            f"g{i}.tab": "0",
            f"g{i}.range_input": f"{max(60, int(until - since) + 60)}s",
            f"g{i}.end_input": end_input,
        }
    return f"{url}/graph?{urllib.parse.urlencode(params)}"


def report(url: str, since: float, until: float, step: float) -> Report:
    records = [
        rule["name"]
        for group in get(url, "rules", type="record")["groups"]
        for rule in group["rules"]
    ]
    rules: dict[str, list[SeriesSummary]] = {}
    for record in records:
        data = get(
            url,
            "query_range",
            query=record,
            start=f"{since:.3f}",
            end=f"{until:.3f}",
            step=f"{step:g}",
        )
        rules[record] = [series_summary(r) for r in data["result"]]
    return {
        "prometheus": url,
        "since": since,
        "until": until,
        "step_seconds": step,
        "graphs": graph_link(url, since, until),
        "rules": rules,
    }


def print_table(result: Report) -> None:
    print(
        f"Prometheus, {result['until'] - result['since']:.0f} s window (peak / last; series "
        "that stayed at 0 or empty are in the JSON only):"
    )
    for record, series in result["rules"].items():
        for s in series:
            if not s["max"]:
                continue
            labels = ",".join(f"{k}={v}" for k, v in sorted(s["labels"].items()))
            print(f"  {record}{{{labels}}}  {s['max']:.4g} / {s['last']:.4g}")
    print(f"graphs: {result['graphs']}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--url", default="http://localhost:9090", help="Prometheus' address")
    p.add_argument("--since", type=float, required=True, help="window start, Unix seconds")
    p.add_argument("--until", type=float, help="window end, Unix seconds (default: now)")
    p.add_argument(
        "--step", type=float, default=15.0, help="seconds between points (the scrape interval)"
    )
    p.add_argument("--out", type=Path, help="the JSON result")
    args = p.parse_args(argv)
    until = args.until if args.until is not None else time.time()
    try:
        result = report(args.url.rstrip("/"), args.since, until, args.step)
    except (OSError, urllib.error.URLError, RuntimeError) as e:
        print(f"prometheus-report: no figures from {args.url}: {e}", file=sys.stderr)
        return 0
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print_table(result)
    if args.out:
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
