"""`podplane-bench apiserver-doors`: the apiserver's Kubernetes REST door beside its gRPC door, in
one run against one etcd and one apiserver started here, both doors on TLS: creates/s and latency
over each door at several client counts (judged: HTTP at least 0.8 of gRPC), watch delivery to
HTTP watchers (and to gRPC watchers, for comparison), and `kubectl get pods` of 1000 pods against
`podctl get pods`."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import secrets
import shlex
import subprocess
import sys
from dataclasses import asdict, dataclass

import aiohttp

from bench.apiserver.benchmark import code_version, host_facts
from bench.apiserver.report import ms, rate
from bench.apiserver_doors import creates, listing, report, watch
from bench.apiserver_doors.control_plane import Cluster, control_plane
from bench.apiserver_doors.doors import DOORS, GRPC, HTTP
from bench.common.failures import WritesFailed
from bench.common.measure import Schedule, cpu_percent_in
from bench.common.processes import etcd_version
from bench.common.progress import Progress
from bench.common.results import write_json
from podplane.apimachinery.json_types import JSONObject

KUBECTL = "/usr/bin/kubectl"


@dataclass(frozen=True)
class Options:
    out: str
    markdown_out: str
    clients: tuple[int, ...]
    client_processes: int
    warmup: float
    duration: float
    watchers: int
    watch_doors: tuple[str, ...]
    watch_processes: int
    watch_rate: float
    watch_duration: float
    list_pods: int
    list_repetitions: int
    kubectl: str


def _counts(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected comma-separated integers") from None
    if counts and min(counts) < 1:  # none at all skips the phase
        raise argparse.ArgumentTypeError(f"{value!r}: expected positive integers")
    return counts


def _doors(value: str) -> tuple[str, ...]:
    doors = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [d for d in doors if d not in DOORS]
    if unknown:
        raise argparse.ArgumentTypeError(f"{unknown[0]!r}: expected {' or '.join(DOORS)}")
    return doors


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected an integer") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: expected an integer >= 0")
    return number


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "apiserver-doors",
        help="the REST door beside the gRPC door: creates/s, watch delivery, kubectl get pods",
        description=__doc__,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="short cells (1 s warm-up, 3 s measured, 4 s of watch writes, 2 "
        "repetitions of each get): a run of about a minute and a half",
    )
    p.add_argument(
        "--clients",
        type=_counts,
        default=(1, 10, 100),
        help='create clients per cell, on each door, e.g. 1,10,100 ("" skips)',
    )
    p.add_argument(
        "--client-processes",
        type=int,
        default=4,
        help="worker processes the clients are spread over",
    )
    p.add_argument(
        "--warmup", type=float, help="seconds excluded before each create cell (default 2)"
    )
    p.add_argument("--duration", type=float, help="seconds measured per create cell (default 8)")
    p.add_argument(
        "--watchers", type=_non_negative, default=100, help="watchers per watch cell (0 skips)"
    )
    p.add_argument(
        "--watch-doors",
        type=_doors,
        default=(HTTP, GRPC),
        help="the doors whose watchers are measured, e.g. http or http,grpc",
    )
    p.add_argument(
        "--watch-processes",
        type=int,
        default=4,
        help="worker processes the watchers are spread over",
    )
    p.add_argument("--watch-rate", type=float, default=20.0, help="pods created per second")
    p.add_argument(
        "--watch-duration", type=float, help="seconds of writes per watch cell (default 10)"
    )
    p.add_argument(
        "--list-pods", type=_non_negative, default=1000, help="pods that `get pods` lists (0 skips)"
    )
    p.add_argument(
        "--list-repetitions", type=int, help="measured runs of each `get pods` (default 5)"
    )
    p.add_argument("--kubectl", default=KUBECTL, help="the kubectl binary")
    p.add_argument("--out", default="build/bench/apiserver-doors.json", help="the JSON result")
    p.add_argument(
        "--markdown-out", default="build/bench/apiserver-doors.md", help="the markdown table"
    )


def options_from(args: argparse.Namespace) -> Options:
    quick = args.quick

    def given(value: float | None, quick_value: float, full_value: float) -> float:
        return value if value is not None else (quick_value if quick else full_value)

    options = Options(
        out=args.out,
        markdown_out=args.markdown_out,
        clients=args.clients,
        client_processes=args.client_processes,
        warmup=given(args.warmup, 1.0, 2.0),
        duration=given(args.duration, 3.0, 8.0),
        watchers=args.watchers,
        watch_doors=args.watch_doors,
        watch_processes=args.watch_processes,
        watch_rate=args.watch_rate,
        watch_duration=given(args.watch_duration, 4.0, 10.0),
        list_pods=args.list_pods,
        list_repetitions=int(given(args.list_repetitions, 2, 5)),
        kubectl=args.kubectl,
    )
    if min(options.client_processes, options.watch_processes, options.list_repetitions) < 1:
        raise SystemExit(
            "--client-processes, --watch-processes and --list-repetitions: must be >= 1"
        )
    if (
        options.warmup < 0
        or options.duration <= 0
        or options.watch_duration <= 0
        or options.watch_rate <= 0
    ):
        raise SystemExit("--warmup must be >= 0; --duration, --watch-duration and --watch-rate > 0")
    return options


def door_order(index: int) -> tuple[str, str]:
    """The doors' order in the index-th create cell: alternated, so that neither door always
    runs on the fuller store or after the other's load."""
    return (GRPC, HTTP) if index % 2 == 0 else (HTTP, GRPC)


def kubectl_version(kubectl: str) -> str:
    try:
        out = subprocess.run(
            [kubectl, "version", "--client"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except OSError as e:
        return f"not runnable: {e.strerror}"
    first = out.splitlines()[0] if out else ""
    return first.rpartition(": ")[2] or "unknown"


async def _doors_phases(
    options: Options, cluster: Cluster, run_id: str, progress: Progress
) -> JSONObject:
    async def observe_cpu(schedule: Schedule) -> dict[str, float]:
        return await cpu_percent_in(schedule.window, cluster.pids)

    result: JSONObject = {"writes": [], "watch": []}
    create_options = creates.Options(options.client_processes, options.warmup, options.duration)
    for index, clients in enumerate(options.clients):
        for door in door_order(index):
            progress.step(
                f"creates over {door}: {clients} clients, {options.warmup:g} s warm-up "
                f"+ {options.duration:g} s"
            )
            cell = await creates.run_cell(
                door, cluster.doors, run_id, clients, create_options, observe_cpu
            )
            result["writes"].append(cell)
            c = cell["create"]
            progress.step(
                f"  {door} {clients} clients: {rate(c['per_second'])}/s, p50 "
                f"{ms(c['p50'])} ms, p99 {ms(c['p99'])} ms, errors {c['errors']}"
            )
    watch_options = watch.Options(
        options.watch_processes, options.watch_rate, options.watch_duration
    )
    for door in options.watch_doors if options.watchers else ():
        progress.step(
            f"watch delivery over {door}: {options.watchers} watchers, "
            f"{options.watch_rate:g} pods/s for {options.watch_duration:g} s"
        )
        cell = await watch.run_cell(
            door, cluster.doors, run_id, options.watchers, watch_options, observe_cpu
        )
        result["watch"].append(cell)
        progress.step(
            f"  {door}: p50 {ms(cell['from_write_start']['p50'])} ms, p99 "
            f"{ms(cell['from_write_start']['p99'])} ms, missed {cell['missed_total']} "
            f"(set-up {cell['setup_seconds']:.1f} s)"
        )
    return result


def notes(options: Options, result: JSONObject) -> list[str]:
    out = [
        "Both doors serve TLS from one apiserver process (one event loop) over one etcd; every "
        "client is the admin (a client certificate in system:masters, as kubeadm's admin.conf), "
        "which the max-in-flight guard lets pass on both doors.",
        "Load generators, apiserver and etcd share the host's CPUs: the CPU columns (percent of "
        "one core in the measured window) show where it went; `host` is the whole machine's "
        "busy time (at most 100 × CPUs), so host minus the others is load from outside the "
        "benchmark.",
        "The HTTP clients encode the pod's JSON once (podplane.apimachinery.codec) and only "
        "change its name per request; they read each answer whole without decoding it, as the "
        "decoding is client work the door does not do. HTTP watchers do decode each event: "
        "that is how they learn which pod it is.",
        "apiserver CPU ms/create: the apiserver's CPU time over its creates in the cell, every "
        "thread counted: what a create costs it whatever share of a loaded host it got. gRPC's "
        "C core does much of its TLS and HTTP/2 work on threads of its own; the REST door's "
        "TLS, HTTP and JSON all run on the apiserver's event-loop thread.",
        "Create cells alternate which door runs first: "
        + ", ".join(
            f"{clients} clients {' then '.join(door_order(i))}"
            for i, clients in enumerate(options.clients)
        )
        + ".",
    ]
    host = result.get("host", {})
    cpus, load = host.get("cpus") or 1, host.get("load_average_at_start", 0.0)
    if load > cpus:
        out.append(
            f"The host was busy before the run began (load average {load:.1f} on {cpus} "
            "CPUs): work done on one thread (the REST door's event loop, each aiohttp "
            "client process) then gets a smaller share of it than gRPC's multi-threaded "
            "core does, to HTTP's cost. Compare on a quiet host."
        )
    for cell in result.get("watch", []):
        if cell["synced_watchers"] != cell["watchers"]:
            out.append(
                f"{cell['door']} watchers: only {cell['synced_watchers']} of "
                f"{cell['watchers']} had an established stream before writes began."
            )
        if cell["stream_errors"]:
            out.append(f"{cell['door']} watchers: stream errors {cell['stream_errors']}.")
    listed = result.get("listing")
    if listed:
        for name in ("kubectl", "podctl"):
            if listed[name]["rows"] != [listed["pods"]]:
                out.append(
                    f"`{name} get pods` printed {listed[name]['rows']} rows, not {listed['pods']}."
                )
        out.append(
            "`podctl get pods` includes starting Python and importing the client "
            "(`python -m podctl`); kubectl is a Go binary with its discovery cache warm. "
            "Both page the list 500 at a time."
        )
    return out


def run(options: Options) -> int:
    progress = Progress()
    run_id = secrets.token_hex(3)
    log_dir = os.path.dirname(os.path.abspath(options.markdown_out))
    os.makedirs(log_dir, exist_ok=True)
    progress.step(f"run {run_id}")
    result: JSONObject = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "run_id": run_id,
        "started_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": {
            **host_facts(),
            "aiohttp": aiohttp.__version__,
            "etcd_version": etcd_version(),
            "kubectl": kubectl_version(options.kubectl),
        },
        "code": code_version(),
        "settings": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()
        },
    }
    with control_plane(progress, log_dir) as cluster:
        result["cluster"] = {
            "grpc": cluster.doors.grpc_target,
            "rest": cluster.doors.rest_url,
            "description": cluster.description + f", code {result['code']}",
        }
        result["host"]["etcd_data_fs"] = cluster.etcd_data_fs
        if options.list_pods:
            # First, while the store holds nothing else: the list's cost does not depend on
            # how many pods the other phases leave.
            result["listing"] = listing.run(
                cluster.doors,
                cluster.work_dir,
                listing.Options(options.list_pods, options.list_repetitions, options.kubectl),
                progress,
            )
        try:
            result.update(asyncio.run(_doors_phases(options, cluster, run_id, progress)))
        except WritesFailed as e:
            progress.step(f"error: {e}")
            return 1
    result["wall_seconds"] = progress.elapsed
    result["load_average_at_end"] = os.getloadavg()
    result["verdicts"] = {}
    verdict = report.throughput_verdict(result["writes"])
    if verdict is not None:
        result["verdicts"]["http_over_grpc"] = verdict
    result["notes"] = notes(options, result)
    write_json(options.out, result)
    text = report.markdown(result)
    os.makedirs(os.path.dirname(os.path.abspath(options.markdown_out)), exist_ok=True)
    with open(options.markdown_out, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    progress.step(f"done in {progress.elapsed:.0f} s: {options.out}, {options.markdown_out}")
    return 0
