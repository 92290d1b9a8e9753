"""podplane-bench autoscaling: what resource metrics and autoscaling cost on the compose cluster
(`make up`), through its REST door as kubectl reaches it (--kubeconfig, else $KUBECONFIG, else
build/kubeconfig).

1. The HorizontalPodAutoscaler's reaction time, --runs times in a fresh namespace each: a busybox
   Deployment that idles until `kubectl exec` tells it to burn twice its request, under an HPA at
   50 % (min 1, max 3); seconds from the load's start to the metrics API showing the pod above
   50 %, to the HPA's status wanting more replicas, to the Deployment scaled.
2. The kubelet's CPU for its stats on --node: at rest over --seconds, and ms of CPU per call of
   /stats/summary, /metrics/resource and /metrics/cadvisor (--calls each through the apiserver's
   nodes/proxy), without the benchmark's pods and with --pods sleeping pods on the node.
3. The metrics-server add-on's CPU at rest over the same windows.

    make up && podplane-bench autoscaling --runs 5 --pods 30 --calls 100 --seconds 60
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import subprocess
import sys
from dataclasses import asdict, dataclass

from bench.autoscaling import kubelet_stats, reaction
from bench.autoscaling.rest import Rest, kubeconfig_path
from bench.common.results import write_json
from podplane.apimachinery.json_types import JSONObject
from podplane.componentbase import flags

PHASES = ("kubelet", "reaction")


@dataclass(frozen=True)
class Options:
    kubeconfig: str | None = None
    project: str = "podplane"
    phases: tuple[str, ...] = PHASES
    runs: int = 5
    poll: float = 0.5
    node: str = "node-2"
    pods: int = 30
    calls: int = 100
    seconds: float = 60.0
    settle: float = 20.0
    timeout: float = 300.0
    out: str = "build/bench/autoscaling.json"


def _commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()


def measure(options: Options) -> JSONObject:
    rest = Rest(kubeconfig_path(options.kubeconfig))
    result: JSONObject = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "commit": _commit(),
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "options": asdict(options),
        "cpus": os.cpu_count(),
        "load_average_before": list(os.getloadavg()),
    }
    try:
        if "kubelet" in options.phases:
            settings = kubelet_stats.Settings(
                options.project,
                options.node,
                options.pods,
                options.calls,
                options.seconds,
                options.settle,
                options.timeout,
            )
            cells = kubelet_stats.measure(rest, settings)
            result["kubelet"] = {"node": options.node, "cells": cells}
            result["metrics_server_cores"] = cells[0]["at_rest"]["metrics_server_cores"]
        if "reaction" in options.phases:
            runs = reaction.measure(rest, options.runs, options.poll, options.timeout)
            result["reaction"] = {
                "runs": [asdict(r) for r in runs],
                "summary": reaction.summary(runs),
            }
    finally:
        rest.close()
    result["load_average_after"] = list(os.getloadavg())
    return result


def report(result: JSONObject) -> str:
    parts = []
    if "kubelet" in result:
        parts.append(kubelet_stats.report(result["kubelet"]["cells"]))
    if "reaction" in result:
        parts.append(reaction.report(result["reaction"]))
    return "\n\n".join(parts)


def run(options: Options) -> int:
    result = measure(options)
    write_json(options.out, result)
    print(report(result))
    print(f"\n{options.out}")
    failed = [r for r in result.get("reaction", {}).get("runs", []) if r["errors"]]
    return 1 if failed else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = Options()
    p = sub.add_parser(
        "autoscaling",
        help="the HPA's reaction time, the kubelet's CPU for its stats, metrics-server at rest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--kubeconfig", help="the cluster (default $KUBECONFIG, else build/kubeconfig)")
    p.add_argument("--project", default=defaults.project, help="the compose project")
    p.add_argument(
        "--phases",
        default=",".join(defaults.phases),
        help="some of kubelet,reaction, comma-separated (default both)",
    )
    p.add_argument("--runs", type=flags.positive_int, default=defaults.runs, help="HPA runs")
    p.add_argument(
        "--poll", type=float, default=defaults.poll, help="seconds between the HPA run's reads"
    )
    p.add_argument("--node", default=defaults.node, help="the node whose kubelet is measured")
    p.add_argument(
        "--pods", type=flags.positive_int, default=defaults.pods, help="pods put on --node"
    )
    p.add_argument(
        "--calls", type=flags.positive_int, default=defaults.calls, help="calls per endpoint"
    )
    p.add_argument("--seconds", type=float, default=defaults.seconds, help="each at-rest window")
    p.add_argument(
        "--settle",
        type=float,
        default=defaults.settle,
        help="seconds between the pods Running and the window with them",
    )
    p.add_argument("--timeout", type=float, default=defaults.timeout, help="seconds for each wait")
    p.add_argument("--out", default=defaults.out, help="the JSON result")


def options_from(args: argparse.Namespace) -> Options:
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    if not phases or any(p not in PHASES for p in phases):
        raise SystemExit(f"--phases: expected some of {','.join(PHASES)}, not {args.phases!r}")
    if args.seconds <= 0 or args.settle < 0 or args.poll <= 0:
        raise SystemExit("--seconds and --poll must be positive, --settle not negative")
    return Options(
        kubeconfig=args.kubeconfig,
        project=args.project,
        phases=phases,
        runs=args.runs,
        poll=args.poll,
        node=args.node,
        pods=args.pods,
        calls=args.calls,
        seconds=args.seconds,
        settle=args.settle,
        timeout=args.timeout,
        out=args.out,
    )
