"""`podplane-bench apiserver`: the raw etcd ceiling, apiserver write throughput and latency, and
watch delivery latency, in one run, against a control plane it starts or one given to it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import platform
import secrets
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TypedDict

import grpc

from bench.apiserver import report, watch_delivery, writes
from bench.common import etcd_ceiling
from bench.common.failures import WritesFailed
from bench.common.measure import Schedule, cpu_percent_in
from bench.common.pods import NAMESPACE, delete_run_pods
from bench.common.processes import ApiserverProcess, EtcdProcess, etcd_version, filesystem_of
from bench.common.progress import Progress
from bench.common.service_accounts import ensure_default_accounts
from podplane.apimachinery.json_types import JSONObject


@dataclass(frozen=True)
class Options:
    server: str | None
    etcd: str | None
    out: str
    markdown_out: str
    warmup: float
    duration: float
    clients: tuple[int, ...]
    client_processes: int
    etcd_warmup: float
    etcd_duration: float
    etcd_workers: int
    etcd_inflight: int
    watchers: tuple[int, ...]
    watch_processes: int
    watchers_per_connection: int
    watch_rate: float
    watch_duration: float
    keep: bool


@dataclass
class Cluster:
    """Where the load goes, and the PIDs whose CPU is observed (only the processes started here)."""

    target: str
    etcd_endpoint: str | None
    description: str
    pids: dict[str, int]
    started: bool
    # The filesystem of the data dir of an etcd started here (its fsync cost bounds the writes).
    etcd_data_fs: str = "unknown"


@contextlib.contextmanager
def control_plane(options: Options, progress: Progress, log_dir: str) -> Iterator[Cluster]:
    """The cluster under test: the given one, or etcd and an apiserver started here and stopped
    (by PID) on the way out."""
    if options.server:
        yield Cluster(
            options.server,
            options.etcd,
            f"apiserver at {options.server}"
            + (f", etcd at {options.etcd}" if options.etcd else ""),
            {},
            False,
        )
        return
    etcd: EtcdProcess | None = None
    apiserver: ApiserverProcess | None = None
    try:
        pids: dict[str, int] = {}
        endpoint = options.etcd
        if endpoint is None:
            progress.step("starting etcd on a fresh data dir")
            etcd = EtcdProcess.start()
            endpoint = etcd.endpoint
            pids["etcd"] = etcd.pid
        progress.step(f"starting the apiserver over {endpoint}")
        apiserver = ApiserverProcess.start(endpoint, log_dir)
        pids["apiserver"] = apiserver.pid
        description = f"started here: `python -m apiserver` (PID {apiserver.pid}) over " + (
            f"etcd PID {etcd.pid}, fresh data dir" if etcd else endpoint
        )
        yield Cluster(
            apiserver.target,
            endpoint,
            description,
            pids,
            True,
            filesystem_of(etcd.data_dir) if etcd else "unknown",
        )
    finally:
        if apiserver is not None:
            apiserver.stop()
        if etcd is not None:
            etcd.stop()


class HostFacts(TypedDict):
    cpus: int | None
    platform: str
    python: str
    grpcio: str
    load_average_at_start: float


def host_facts() -> HostFacts:
    return {
        "cpus": os.cpu_count(),
        "platform": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "load_average_at_start": os.getloadavg()[0],
    }


def code_version() -> str:
    """The commit of the tree that runs, with "+changes" when it has uncommitted edits."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


async def _phases(
    options: Options, cluster: Cluster, run_id: str, progress: Progress
) -> JSONObject:
    async def observe_cpu(schedule: Schedule) -> dict[str, float]:
        return await cpu_percent_in(schedule.window, cluster.pids)

    result: JSONObject = {}
    if cluster.started:  # no controller-manager makes the account the pods need
        await ensure_default_accounts(cluster.target, [NAMESPACE])
    if cluster.etcd_endpoint is None:
        result["etcd"] = {
            "skipped": "no etcd endpoint (pass --etcd http://host:port to measure "
            "the ceiling of a running cluster's etcd)"
        }
    else:
        result["etcd_version"] = await etcd_ceiling.server_version(cluster.etcd_endpoint)
        progress.step(
            f"etcd ceiling: {options.etcd_workers} processes × {options.etcd_inflight} "
            f"in flight, creates then CAS, {options.etcd_duration:g} s each"
        )
        prefix = f"/podplane-bench/{run_id}"
        result["etcd"] = await etcd_ceiling.run(
            cluster.etcd_endpoint,
            prefix,
            etcd_ceiling.Options(
                options.etcd_workers,
                options.etcd_inflight,
                options.etcd_warmup,
                options.etcd_duration,
            ),
            observe_cpu,
        )
        if options.etcd:  # an etcd this run did not start: leave it as it was
            await etcd_ceiling.delete_prefix(cluster.etcd_endpoint, prefix)
        progress.step(
            f"  etcd: {result['etcd']['create']['per_second']:,.0f} creates/s, "
            f"{result['etcd']['cas']['per_second']:,.0f} CAS/s"
        )
    result["writes"] = []
    write_options = writes.Options(options.client_processes, options.warmup, options.duration)
    for clients in options.clients:
        progress.step(
            f"apiserver writes: {clients} clients, creates then updates, "
            f"{options.warmup:g} s warm-up + {options.duration:g} s each"
        )
        cell = await writes.run_cell(cluster.target, run_id, clients, write_options, observe_cpu)
        result["writes"].append(cell)
        progress.step(
            f"  {clients} clients: creates {cell['create']['per_second']:,.0f}/s p99 "
            f"{report.ms(cell['create']['p99'])} ms, updates "
            f"{cell['update']['per_second']:,.0f}/s p99 "
            f"{report.ms(cell['update']['p99'])} ms"
        )
    result["watch"] = []
    watch_options = watch_delivery.Options(
        options.watch_processes,
        options.watchers_per_connection,
        options.watch_rate,
        options.watch_duration,
    )
    for watchers in options.watchers:
        progress.step(
            f"watch delivery: {watchers} watchers, {options.watch_rate:g} pods/s for "
            f"{options.watch_duration:g} s"
        )
        cell = await watch_delivery.run_cell(
            cluster.target, run_id, watchers, watch_options, observe_cpu
        )
        result["watch"].append(cell)
        progress.step(
            f"  {watchers} watchers: p50 {report.ms(cell['from_write_start']['p50'])} ms,"
            f" p99 {report.ms(cell['from_write_start']['p99'])} ms, "
            f"missed {cell['missed_total']} (set-up {cell['setup_seconds']:.1f} s)"
        )
    if (options.server or options.etcd) and not options.keep:  # a cluster this run did not start
        progress.step("deleting the run's pods")
        deleted = await delete_run_pods(cluster.target, run_id)
        progress.step(f"  deleted {deleted} pods")
    return result


def notes(options: Options, result: JSONObject) -> list[str]:
    out = [
        "Load generation: every client and watcher is an asyncio task in a worker process, on "
        "its own gRPC connection (so 100 clients are 100 TCP connections); clients are spread over "
        f"at most {options.client_processes} worker processes, watchers over "
        f"{options.watch_processes}, etcd load over {options.etcd_workers}. Load generators, "
        "apiserver and etcd share the host's CPUs: the CPU columns (percent of one core during "
        "the measured window) show where it went; `host` is the whole machine's busy time (at "
        "most 100 × CPUs), so host minus the others is load from outside the benchmark.",
        "Pods are created with spec.nodeName set to a node that does not exist, so on a live "
        "cluster neither the scheduler nor a kubelet writes to them during the run.",
    ]
    for cell in result.get("watch", []):
        if cell["synced_watchers"] != cell["watchers"]:
            out.append(
                f"{cell['watchers']} watchers: only {cell['synced_watchers']} had an "
                "established stream before writes began."
            )
        if cell["stream_errors"]:
            out.append(f"{cell['watchers']} watchers: stream errors {cell['stream_errors']}.")
    return out


def run(options: Options) -> int:
    progress = Progress()
    run_id = secrets.token_hex(3)
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    log_dir = os.path.dirname(os.path.abspath(options.markdown_out))
    os.makedirs(log_dir, exist_ok=True)
    progress.step(f"run {run_id}: host facts")
    result: JSONObject = {
        "command": "podplane-bench " + shlex.join(sys.argv[1:]),
        "run_id": run_id,
        "started_at": started_at,
        "host": host_facts(),
        "code": code_version(),
        "settings": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(options).items()
        },
    }
    with control_plane(options, progress, log_dir) as cluster:
        result["cluster"] = {
            "target": cluster.target,
            "etcd": cluster.etcd_endpoint,
            "description": cluster.description + f", code {result['code']}",
        }
        try:
            result.update(asyncio.run(_phases(options, cluster, run_id, progress)))
        except WritesFailed as e:
            progress.step(f"error: {e}")
            return 1
        result["host"]["etcd_data_fs"] = cluster.etcd_data_fs
    result["host"]["etcd_version"] = result.pop(
        "etcd_version", f"{etcd_version()} (the local binary; the cluster's etcd was not reached)"
    )
    result["wall_seconds"] = progress.elapsed
    result["verdicts"] = report.verdicts(result)
    result["notes"] = notes(options, result)
    report.write(result, options.out, options.markdown_out)
    sys.stdout.write(report.markdown(result))
    progress.step(f"done in {progress.elapsed:.0f} s: {options.out}, {options.markdown_out}")
    return 0
