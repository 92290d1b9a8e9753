"""`podplane-bench apiserver-overload`: one cell per --max-mutating-requests-inflight value (0: no
guard), each on a fresh etcd and apiserver started here with that limit (or, with --server, one cell
against a running apiserver with whatever limit it has); JSON and markdown like the other phases,
with the verdicts: mutating p99 of accepted calls under 1 s with the guard, refusals fast."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import secrets
import shlex
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypedDict

from bench.apiserver import overload_cell, overload_report
from bench.apiserver.benchmark import Cluster, code_version, host_facts
from bench.common.measure import Schedule, cpu_percent_in
from bench.common.pods import delete_run_pods
from bench.common.processes import ApiserverProcess, EtcdProcess, etcd_version
from bench.common.progress import Progress

P99_TARGET_SECONDS = 1.0


@dataclass(frozen=True)
class Options:
    server: str | None
    limits: tuple[int, ...]
    clients: int
    node_watchers: int
    cluster_watchers: int
    client_processes: int
    warmup: float
    duration: float
    out: str
    markdown_out: str


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "apiserver-overload",
        help="many writers and watchers against the apiserver, with and without the in-flight "
        "limit",
        description="C writers (each: create a pod, update it, create the next, ...; one request "
        "at a time, own connection), node and cluster watchers, spread over worker "
        "processes, "
        "against a fresh etcd and apiserver per --max-mutating-requests-inflight "
        "value (0: no guard). Reports accepted latency by verb, refusals and their "
        "latency, and watch events delivered.",
    )
    p.add_argument("--server", help="a running apiserver (host:port): one cell, its own limits")
    p.add_argument(
        "--limits",
        type=_limits,
        default=(50, 0),
        help="--max-mutating-requests-inflight per cell, e.g. 50,0 (0: no guard)",
    )
    p.add_argument("--clients", type=int, default=800, help="concurrent writers")
    p.add_argument(
        "--node-watchers",
        type=int,
        default=100,
        help="watch streams of one node's pods each (a kubelet's); every pod is "
        "bound to one of their nodes",
    )
    p.add_argument(
        "--cluster-watchers",
        type=int,
        default=2,
        help="watch streams of every pod (a scheduler's or controller's informer)",
    )
    p.add_argument(
        "--client-processes",
        type=int,
        default=4,
        help="worker processes the writers and watchers are spread over",
    )
    p.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    p.add_argument("--duration", type=float, default=15.0, help="seconds measured per cell")
    p.add_argument("--out", default="build/bench/apiserver-overload.json")
    p.add_argument("--markdown-out", default="build/bench/apiserver-overload.md")


def _limits(value: str) -> tuple[int, ...]:
    try:
        limits = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected comma-separated integers") from None
    if not limits or min(limits) < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: expected integers >= 0 (0: no guard)")
    return limits


def options_from(args: argparse.Namespace) -> Options:
    for flag in ("clients", "client_processes"):
        if getattr(args, flag) < 1:
            raise SystemExit(f"--{flag.replace('_', '-')}: must be >= 1")
    if min(args.node_watchers, args.cluster_watchers, args.warmup) < 0 or args.duration <= 0:
        raise SystemExit(
            "--node-watchers, --cluster-watchers and --warmup must be >= 0, --duration > 0"
        )
    return Options(
        args.server,
        (0,) if args.server else args.limits,
        args.clients,
        args.node_watchers,
        args.cluster_watchers,
        args.client_processes,
        args.warmup,
        args.duration,
        args.out,
        args.markdown_out,
    )


@contextlib.contextmanager
def control_plane(
    options: Options, limit: int, progress: Progress, log_dir: str
) -> Iterator[Cluster]:
    if options.server:
        yield Cluster(options.server, None, f"apiserver at {options.server}", {}, False)
        return
    progress.step("starting etcd on a fresh data dir")
    etcd = EtcdProcess.start()
    apiserver: ApiserverProcess | None = None
    try:
        progress.step(f"starting the apiserver with --max-mutating-requests-inflight {limit}")
        apiserver = ApiserverProcess.start(
            etcd.endpoint, log_dir, extra_args=["--max-mutating-requests-inflight", str(limit)]
        )
        yield Cluster(
            apiserver.target,
            etcd.endpoint,
            f"`python -m apiserver --max-mutating-requests-inflight {limit}` "
            f"(PID {apiserver.pid}) over etcd PID {etcd.pid}, fresh data dir",
            {"apiserver": apiserver.pid, "etcd": etcd.pid},
            True,
        )
    finally:
        if apiserver is not None:
            apiserver.stop()
        etcd.stop()


class CellVerdict(TypedDict):
    mutating_p99_seconds: float
    p99_under_1s: bool
    refused: int
    refused_p99_seconds: float | None


def verdicts(cells: list[dict[str, Any]]) -> dict[str, CellVerdict]:
    """Per cell, by its limit: the worse accepted p99 of create and update against 1 s; refusals'
    p99."""
    out: dict[str, CellVerdict] = {}
    for cell in cells:
        p99 = max(cell[v]["accepted"]["p99"] or float("inf") for v in overload_cell.VERBS)
        refused = [cell[v]["refused"] for v in overload_cell.VERBS]
        refused_count = sum(r["count"] for r in refused)
        refused_p99 = max((r["p99"] for r in refused if r["p99"] is not None), default=None)
        out[str(cell["mutating_limit"])] = {
            "mutating_p99_seconds": p99,
            "p99_under_1s": p99 < P99_TARGET_SECONDS,
            "refused": refused_count,
            "refused_p99_seconds": refused_p99,
        }
    return out


async def _cell(options: Options, cluster: Cluster, run_id: str, limit: int) -> dict[str, Any]:
    async def observe_cpu(schedule: Schedule) -> dict[str, float]:
        return await cpu_percent_in(schedule.window, cluster.pids)

    cell = await overload_cell.run_cell(
        cluster.target,
        run_id,
        f"l{limit}",
        overload_cell.CellOptions(
            options.clients,
            options.node_watchers,
            options.cluster_watchers,
            options.client_processes,
            options.warmup,
            options.duration,
        ),
        observe_cpu,
    )
    if not cluster.started:
        await delete_run_pods(cluster.target, run_id)
    return {"mutating_limit": limit, "cluster": cluster.description, **cell}


def run(options: Options) -> int:
    progress = Progress()
    run_id = secrets.token_hex(3)
    log_dir = os.path.dirname(os.path.abspath(options.markdown_out))
    os.makedirs(log_dir, exist_ok=True)
    result: dict[str, Any] = {
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
    for limit in options.limits:
        with control_plane(options, limit, progress, log_dir) as cluster:
            progress.step(
                f"limit {limit or 'none'}: {options.clients} writers, "
                f"{options.node_watchers} node and {options.cluster_watchers} "
                f"cluster watchers, {options.warmup:g} s warm-up + "
                f"{options.duration:g} s"
            )
            cell = asyncio.run(_cell(options, cluster, run_id, limit))
        result["cells"].append(cell)
        progress.step("  " + overload_report.cell_line(cell))
    result["wall_seconds"] = progress.elapsed
    result["load_average_at_end"] = os.getloadavg()
    result["verdicts"] = verdicts(result["cells"])
    overload_report.write(result, options.out, options.markdown_out)
    sys.stdout.write(overload_report.markdown(result))
    progress.step(f"done in {progress.elapsed:.0f} s: {options.out}, {options.markdown_out}")
    return 0
