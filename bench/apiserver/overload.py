"""`podplane-bench apiserver-overload`: one cell per (writers, guard), each on a fresh etcd and TLS
apiserver started here with that guard (API Priority and Fairness, the max-in-flight guard, or
none); JSON and markdown like the other phases, with the verdicts the issue asks for: at 100
writers, mutating p99 under 1 s with nothing refused; at 800, every lease renewal and heartbeat
within its deadline and the accepted writes' p99 under 1 s, the excess refused quickly."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import secrets
import shlex
import sys
import urllib.request
from dataclasses import asdict, dataclass
from typing import TypedDict

from prometheus_client.parser import text_string_to_metric_families

from bench.apiserver import overload_cell, overload_report
from bench.apiserver.benchmark import code_version, host_facts
from bench.apiserver.overload_cluster import GUARDS, Cluster, control_plane
from bench.common.failures import WritesFailed
from bench.common.measure import Schedule, cpu_percent_in
from bench.common.processes import etcd_version
from bench.common.progress import Progress
from podplane.apimachinery.json_types import JSONObject

P99_TARGET_SECONDS = 1.0
# The apiserver's flow-control counters reported per cell (cumulative, warm-up included).
FLOWCONTROL_METRICS = (
    "apiserver_flowcontrol_rejected_requests",
    "apiserver_flowcontrol_dispatched_requests",
    "apiserver_flowcontrol_current_limit_seats",
    "apiserver_dropped_requests",
)


@dataclass(frozen=True)
class Options:
    guards: tuple[str, ...]
    clients: tuple[int, ...]
    nodes: int
    cluster_watchers: int
    electors: int
    heartbeat_interval: float
    client_processes: int
    warmup: float
    duration: float
    out: str
    markdown_out: str
    profile_apiserver: str | None = None
    apiserver_args: tuple[str, ...] = ()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "apiserver-overload",
        help="workload writers flooding the apiserver while leader electors and kubelets renew "
        "their leases: API Priority and Fairness against the max-in-flight guard",
        description="Per writer count and guard, a fresh etcd and TLS apiserver: C writers (the "
        "controller-manager: create a pod, update it, create the next, ...; one call at a "
        "time, own connection, refused calls retried after the hint), node agents (a "
        "kubelet's pod watch and node lease heartbeat), cluster watchers and leader "
        "electors, spread over worker processes. Reports accepted, refused and "
        "client-seen latency by verb, the renewals against their deadlines, and watch "
        "events delivered.",
    )
    p.add_argument(
        "--guards",
        type=_guards,
        default=("apf", "apf-150", "max-inflight"),
        help="the apiserver's guard per cell: apf (API Priority and Fairness, the default: 75 "
        "seats), apf-150 (with 150 seats), max-inflight (--enable-priority-and-fairness=false, "
        "100 read-only and 50 mutating, the old defaults), none (default "
        "apf,apf-150,max-inflight)",
    )
    p.add_argument(
        "--clients",
        type=_counts,
        default=(100, 800),
        help="concurrent writers per cell, comma-separated (default 100,800)",
    )
    p.add_argument(
        "--nodes",
        type=int,
        default=100,
        help="node agents, each watching its node's pods and renewing its node lease; every "
        "pod is bound to one of their nodes",
    )
    p.add_argument(
        "--cluster-watchers",
        type=int,
        default=2,
        help="watch streams of every pod (the scheduler's informer)",
    )
    p.add_argument(
        "--electors",
        type=int,
        default=4,
        help="leader electors renewing a lease every 2 s, renew deadline 10 s (the scheduler's, "
        f"then the controller-manager's; at most {len(overload_cell.ELECTORS)})",
    )
    p.add_argument(
        "--heartbeat-interval",
        type=float,
        default=overload_cell.HEARTBEAT_INTERVAL,
        help="seconds between a node's lease renewals, each of which must succeed within it",
    )
    p.add_argument(
        "--client-processes",
        type=int,
        default=4,
        help="worker processes the load is spread over",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=15.0,
        help="seconds before measuring (APF adjusts its levels' seats every 10 s)",
    )
    p.add_argument("--duration", type=float, default=20.0, help="seconds measured per cell")
    p.add_argument(
        "--profile-apiserver",
        metavar="DIR",
        help="run each cell's apiserver under cProfile (its event loop thread's CPU time) and "
        "write its stats to DIR/apiserver-<guard>-<writers>.prof (read them with python -m "
        "pstats)",
    )
    p.add_argument(
        "--apiserver-arg",
        action="append",
        default=[],
        metavar="FLAG",
        help="a flag for every cell's apiserver, after the guard's (repeat for more), e.g. "
        "--apiserver-arg=--max-mutating-requests-inflight=100",
    )
    p.add_argument("--out", default="build/bench/apiserver-overload.json")
    p.add_argument("--markdown-out", default="build/bench/apiserver-overload.md")


def _guards(value: str) -> tuple[str, ...]:
    guards = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [g for g in guards if g not in GUARDS]
    if not guards or unknown:
        raise argparse.ArgumentTypeError(f"{value!r}: expected some of {', '.join(GUARDS)}")
    return guards


def _counts(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected comma-separated integers") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: expected integers >= 1")
    return counts


def options_from(args: argparse.Namespace) -> Options:
    if args.client_processes < 1:
        raise SystemExit("--client-processes: must be >= 1")
    if min(args.nodes, args.cluster_watchers, args.warmup, args.electors) < 0:
        raise SystemExit("--nodes, --cluster-watchers, --electors and --warmup must be >= 0")
    if args.duration <= 0 or args.heartbeat_interval <= 0:
        raise SystemExit("--duration and --heartbeat-interval must be > 0")
    if args.electors > len(overload_cell.ELECTORS):
        raise SystemExit(f"--electors: at most {len(overload_cell.ELECTORS)}")
    return Options(
        args.guards,
        args.clients,
        args.nodes,
        args.cluster_watchers,
        args.electors,
        args.heartbeat_interval,
        args.client_processes,
        args.warmup,
        args.duration,
        args.out,
        args.markdown_out,
        args.profile_apiserver,
        tuple(args.apiserver_arg),
    )


class CellVerdict(TypedDict):
    mutating_p99_seconds: float
    p99_under_1s: bool
    client_seen_p99_seconds: float
    refused: int
    refused_p99_seconds: float | None
    renewals_in_time: bool
    renewal_max_seconds: float | None


def cell_key(cell: JSONObject) -> str:
    return f"{cell['guard']}@{cell['clients']}"


def verdicts(cells: list[JSONObject]) -> dict[str, CellVerdict]:
    """Per cell: the worse accepted p99 of create and update against 1 s, the worse client-seen
    p99, refusals and their p99, and whether every renewal and heartbeat met its deadline."""
    out: dict[str, CellVerdict] = {}
    for cell in cells:
        verbs = overload_cell.VERBS
        p99 = max(cell[v]["accepted"]["p99"] or float("inf") for v in verbs)
        seen = max(cell[v]["client_seen"]["p99"] or float("inf") for v in verbs)
        refused = [cell[v]["refused"] for v in verbs]
        renewals = [cell["leader_election"], cell["node_heartbeat"]]
        out[cell_key(cell)] = {
            "mutating_p99_seconds": p99,
            "p99_under_1s": p99 < P99_TARGET_SECONDS,
            "client_seen_p99_seconds": seen,
            "refused": sum(r["count"] for r in refused),
            "refused_p99_seconds": max(
                (r["p99"] for r in refused if r["p99"] is not None), default=None
            ),
            "renewals_in_time": all(r["missed"] == 0 and r["count"] > 0 for r in renewals),
            "renewal_max_seconds": max(
                (r["max"] for r in renewals if r["max"] is not None), default=None
            ),
        }
    return out


def flowcontrol_figures(metrics_url: str) -> dict[str, dict[str, float]]:
    """The flow-control counters the apiserver exposes, by metric and label values."""
    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        text = response.read().decode()
    out: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in FLOWCONTROL_METRICS:
            continue
        for s in family.samples:
            if s.name.endswith("_created"):
                continue
            key = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out.setdefault(family.name, {})[key] = s.value
    return out


async def _cell(
    options: Options, cluster: Cluster, run_id: str, guard: str, clients: int
) -> JSONObject:
    async def observe_cpu(schedule: Schedule) -> dict[str, float]:
        return await cpu_percent_in(schedule.window, cluster.pids)

    cell = await overload_cell.run_cell(
        cluster.target,
        cluster.pki_dir,
        run_id,
        f"{guard}-{clients}",
        overload_cell.CellOptions(
            clients,
            options.nodes,
            options.cluster_watchers,
            options.electors,
            options.heartbeat_interval,
            options.client_processes,
            options.warmup,
            options.duration,
        ),
        observe_cpu,
    )
    figures = await asyncio.to_thread(flowcontrol_figures, cluster.metrics_url)
    return {
        "guard": guard,
        "cluster": cluster.description,
        **cell,
        "flowcontrol": figures,
    }


def run(options: Options) -> int:
    progress = Progress()
    run_id = secrets.token_hex(3)
    log_dir = os.path.dirname(os.path.abspath(options.markdown_out))
    os.makedirs(log_dir, exist_ok=True)
    result: JSONObject = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "run_id": run_id,
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": {**host_facts(), "etcd_version": etcd_version()},
        "code": code_version(),
        "settings": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()
        },
        "cells": [],
    }
    for clients in options.clients:
        for guard in options.guards:
            profile = (
                os.path.join(
                    os.path.abspath(options.profile_apiserver), f"apiserver-{guard}-{clients}.prof"
                )
                if options.profile_apiserver
                else None
            )
            if profile:
                os.makedirs(os.path.dirname(profile), exist_ok=True)
            with control_plane(
                guard, options.nodes, progress, log_dir, profile, options.apiserver_args
            ) as cluster:
                progress.step(
                    f"{guard}, {clients} writers: {options.nodes} node agents, "
                    f"{options.cluster_watchers} cluster watchers, {options.electors} electors, "
                    f"{options.warmup:g} s warm-up + {options.duration:g} s"
                )
                try:
                    cell = asyncio.run(_cell(options, cluster, run_id, guard, clients))
                except WritesFailed as e:
                    progress.step(f"error: {e}")
                    return 1
            result["cells"].append(cell)
            progress.step("  " + overload_report.cell_line(cell))
    result["wall_seconds"] = progress.elapsed
    result["load_average_at_end"] = os.getloadavg()
    result["verdicts"] = verdicts(result["cells"])
    overload_report.write(result, options.out, options.markdown_out)
    sys.stdout.write(overload_report.markdown(result))
    progress.step(f"done in {progress.elapsed:.0f} s: {options.out}, {options.markdown_out}")
    return 0
