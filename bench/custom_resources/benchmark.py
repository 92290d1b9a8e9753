"""`podplane-bench custom-resources`: creates/s of a custom resource beside a ConfigMap of the same
size, in one run against one etcd and one TLS apiserver started here (bench/apiserver_doors'
control plane), both over the REST door as kubectl create sends them, by the same closed-loop
clients (bench/apiserver_doors/creates.py); judged: the custom resource at least 0.8 of the
ConfigMap's creates/s at every client count, the median of `--rounds` paired measurements."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import secrets
import shlex
import sys
import time
from dataclasses import asdict, dataclass

import aiohttp

from bench.apiserver.benchmark import code_version, host_facts
from bench.apiserver.report import ms, rate
from bench.apiserver_doors import creates
from bench.apiserver_doors.control_plane import Cluster, control_plane
from bench.apiserver_doors.creators import JSON_HEADERS, http_session
from bench.apiserver_doors.doors import HTTP
from bench.common.failures import WritesFailed
from bench.common.measure import Schedule, cpu_percent_in
from bench.common.processes import etcd_version
from bench.common.progress import Progress
from bench.common.results import write_json
from bench.custom_resources import objects, report
from podplane.apimachinery.json_types import JSONObject

ESTABLISH_TIMEOUT = 30.0


@dataclass(frozen=True)
class Options:
    out: str
    markdown_out: str
    clients: tuple[int, ...]
    client_processes: int
    warmup: float
    duration: float
    size: int
    rounds: int


def _counts(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected comma-separated integers") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: expected positive integers")
    return counts


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "custom-resources",
        help="creates/s of a custom resource beside a ConfigMap of the same size",
        description=__doc__,
    )
    p.add_argument("--quick", action="store_true", help="short cells (1 s warm-up, 3 s measured)")
    p.add_argument(
        "--clients", type=_counts, default=(1, 10, 50), help="clients per cell, e.g. 1,10,50"
    )
    p.add_argument(
        "--client-processes", type=int, default=4, help="worker processes the clients run in"
    )
    p.add_argument("--warmup", type=float, help="seconds excluded before each cell (default 2)")
    p.add_argument("--duration", type=float, help="seconds measured per cell (default 8)")
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="times every client count is measured for both kinds (default 3; judged: median)",
    )
    p.add_argument(
        "--size", type=int, default=1024, help="bytes of each object's JSON body (default 1024)"
    )
    p.add_argument("--out", default="build/bench/custom-resources.json", help="the JSON result")
    p.add_argument(
        "--markdown-out", default="build/bench/custom-resources.md", help="the markdown table"
    )


def options_from(args: argparse.Namespace) -> Options:
    def given(value: float | None, quick_value: float, full_value: float) -> float:
        return value if value is not None else (quick_value if args.quick else full_value)

    options = Options(
        out=args.out,
        markdown_out=args.markdown_out,
        clients=args.clients,
        client_processes=args.client_processes,
        warmup=given(args.warmup, 1.0, 2.0),
        duration=given(args.duration, 3.0, 8.0),
        size=args.size,
        rounds=args.rounds,
    )
    if (
        options.client_processes < 1
        or options.warmup < 0
        or options.duration <= 0
        or options.rounds < 1
    ):
        raise SystemExit(
            "--client-processes and --rounds must be >= 1, --warmup >= 0, --duration > 0"
        )
    try:
        objects.writes(options.size)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    return options


def kind_order(index: int) -> tuple[str, str]:
    """The kinds' order in the index-th pair of cells (rounds and client counts counted
    together): alternated, so that neither always runs on the fuller store or after the other's
    load."""
    first, second = report.CONFIGMAP, report.CUSTOM
    return (first, second) if index % 2 == 0 else (second, first)


async def define(cluster: Cluster, progress: Progress) -> float:
    """Creates the Payload definition and waits until its collection is served; the seconds
    from the create to the first list answered."""
    progress.step(f"creating the CustomResourceDefinition {objects.CRD_NAME}")
    session = http_session(cluster.doors, aiohttp.ClientTimeout(total=30))
    started = time.monotonic()
    list_path = f"/apis/{objects.GROUP}/v1/{objects.PLURAL}"
    async with session:
        async with session.post(
            objects.CRD_PATH, json=objects.definition(), headers=JSON_HEADERS
        ) as response:
            if response.status != 201:
                raise RuntimeError(
                    f"POST {objects.CRD_PATH}: HTTP {response.status} {await response.text()}"
                )
        while True:
            async with session.get(list_path, headers=JSON_HEADERS) as response:
                await response.read()
                if response.status == 200:
                    return time.monotonic() - started
            if time.monotonic() - started > ESTABLISH_TIMEOUT:
                raise RuntimeError(f"{list_path} not served {ESTABLISH_TIMEOUT:.0f} s after")
            await asyncio.sleep(0.1)


async def _phases(
    options: Options, cluster: Cluster, run_id: str, progress: Progress
) -> JSONObject:
    async def observe_cpu(schedule: Schedule) -> dict[str, float]:
        return await cpu_percent_in(schedule.window, cluster.pids)

    established = await define(cluster, progress)
    configmap, custom = objects.writes(options.size)
    what = {
        report.CONFIGMAP: (configmap, objects.CONFIGMAP_CELL),
        report.CUSTOM: (custom, objects.CUSTOM_CELL),
    }
    create_options = creates.Options(options.client_processes, options.warmup, options.duration)
    cells: list[JSONObject] = []
    index = 0
    for round_index in range(options.rounds):
        for clients in options.clients:
            for kind in kind_order(index):
                progress.step(
                    f"round {round_index + 1}/{options.rounds}, {kind} creates: {clients} "
                    f"clients, {options.warmup:g} s warm-up + {options.duration:g} s"
                )
                write, cell_prefix = what[kind]
                cell = await creates.run_cell(
                    HTTP,
                    cluster.doors,
                    run_id,
                    clients,
                    create_options,
                    observe_cpu,
                    write=write,
                    cell=f"{cell_prefix}{clients}r{round_index}",
                )
                cell["kind"] = kind
                cell["round"] = round_index
                cells.append(cell)
                c = cell["create"]
                progress.step(
                    f"  {kind} {clients} clients: {rate(c['per_second'])}/s, p50 "
                    f"{ms(c['p50'])} ms, p99 {ms(c['p99'])} ms, errors {c['errors']}"
                )
            index += 1
    return {"established_seconds": established, "writes": cells}


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
        "host": {**host_facts(), "aiohttp": aiohttp.__version__, "etcd_version": etcd_version()},
        "code": code_version(),
        "settings": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()
        },
    }
    with control_plane(progress, log_dir) as cluster:
        result["cluster"] = {"description": cluster.description + f", code {result['code']}"}
        result["host"]["etcd_data_fs"] = cluster.etcd_data_fs
        try:
            result.update(asyncio.run(_phases(options, cluster, run_id, progress)))
        except WritesFailed as e:
            progress.step(f"error: {e}")
            return 1
    result["wall_seconds"] = progress.elapsed
    result["load_average_at_end"] = os.getloadavg()
    result["verdict"] = report.verdict(result["writes"])
    write_json(options.out, result)
    text = report.markdown(result)
    with open(options.markdown_out, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    progress.step(f"done in {progress.elapsed:.0f} s: {options.out}, {options.markdown_out}")
    return 0
