"""Pod creates through one door by C concurrent clients, as bench/apiserver/writes.py measures
them over gRPC: each client a task with its own connection and one request at a time (a closed
loop), the clients spread over worker processes so that the client side does not share one
Python core. The loop, the pods and the windows are the same for both doors; only the creator
differs (bench/apiserver_doors/creators.py)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from bench.apiserver_doors.creators import CreateFailed, HttpWrite, PodCreator, open_creator
from bench.apiserver_doors.doors import Doors
from bench.common import workers
from bench.common.failures import WritesFailed, check_writes, first_messages
from bench.common.measure import CpuObserver, Schedule, own_cpu_in, sleep_until
from bench.common.pods import CELL_LABEL, RUN_LABEL
from bench.common.stats import summarize
from podplane.apimachinery.json_types import JSONObject

CONNECT_TIMEOUT = 120.0  # for every worker's clients to connect, on a loaded host


@dataclass(frozen=True)
class WorkerSpec:
    door: str
    doors: Doors
    run_id: str
    cell: str
    first_client: int
    clients: int
    warmup: float
    duration: float
    write: HttpWrite | None = None  # what the HTTP clients create, if not the small pod


@dataclass
class Measured:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    messages: dict[str, str] = field(default_factory=dict)  # the first failure's, per code
    created: int = 0


async def _create_loop(
    spec: WorkerSpec, schedule: Schedule, index: int, creator: PodCreator, out: Measured
) -> None:
    window = schedule.window
    n = 0
    while (started := time.time()) < schedule.end:
        name = f"bench-{spec.run_id}-{spec.cell}-{index}-{n}"
        n += 1
        t0 = time.perf_counter()
        try:
            await creator.create(name)
        except CreateFailed as e:
            if window.contains(started):
                out.errors[e.code] += 1
                out.messages.setdefault(e.code, e.detail)
            await asyncio.sleep(0.01)
            continue
        out.created += 1
        if window.contains(started):
            out.latencies.append(time.perf_counter() - t0)


@dataclass(frozen=True)
class WorkerResult:
    measured: Measured
    cpu_seconds: float  # this worker's, in the measured window


async def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    labels = {RUN_LABEL: spec.run_id, CELL_LABEL: spec.cell}
    creators = await asyncio.gather(
        *(open_creator(spec.door, spec.doors, labels, spec.write) for _ in range(spec.clients))
    )
    try:
        conn.send("ready")
        begin: float = await workers.receive(conn)
        schedule = Schedule(begin, spec.warmup, spec.duration)
        measured = Measured()
        cpu = asyncio.create_task(own_cpu_in(schedule.window))
        await sleep_until(schedule.begin)
        await asyncio.gather(
            *(
                _create_loop(spec, schedule, spec.first_client + i, c, measured)
                for i, c in enumerate(creators)
            )
        )
        result = WorkerResult(measured, await cpu)
    finally:
        for c in creators:
            await c.close()
    conn.send(result)


@dataclass(frozen=True)
class Options:
    worker_processes: int
    warmup: float
    duration: float


def cell_name(door: str, clients: int) -> str:
    return f"{door}{clients}"


async def run_cell(
    door: str,
    doors: Doors,
    run_id: str,
    clients: int,
    options: Options,
    observe_cpu: CpuObserver,
    write: HttpWrite | None = None,
    cell: str = "",
) -> JSONObject:
    """Creates through `door` by `clients` clients (of the small pod, or of what `write` says,
    in the cell named `cell` if given): throughput, latency, errors, CPU."""
    specs: list[WorkerSpec] = []
    first = 0
    for n in workers.spread(clients, options.worker_processes):
        specs.append(
            WorkerSpec(
                door,
                doors,
                run_id,
                cell or cell_name(door, clients),
                first,
                n,
                options.warmup,
                options.duration,
                write,
            )
        )
        first += n
    group = workers.WorkerGroup(worker_main, specs)
    try:
        await group.receive_all(CONNECT_TIMEOUT, "client connections")
        schedule = Schedule(time.time() + 0.5, options.warmup, options.duration)
        group.send_all(schedule.begin)
        cpu = asyncio.ensure_future(observe_cpu(schedule))
        results: list[WorkerResult] = await group.receive_all(
            schedule.end - time.time() + 120, "create results"
        )
    finally:
        group.stop()
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r.measured.errors)
    messages = first_messages(r.measured.messages for r in results)
    try:
        check_writes(
            f"{door}, {clients} clients: creates",
            sum(len(r.measured.latencies) for r in results),
            errors,
            messages,
        )
    except WritesFailed:
        cpu.cancel()
        raise
    summary = summarize(
        (lat for r in results for lat in r.measured.latencies),
        schedule.window.seconds,
        errors=sum(errors.values()),
    )
    window = schedule.window.seconds
    cpu_percent = {**(await cpu), "clients": 100 * sum(r.cpu_seconds for r in results) / window}
    return {
        "door": door,
        "clients": clients,
        "worker_processes": len(specs),
        "created": sum(r.measured.created for r in results),
        "create": {**summary.to_json(), "errors_by_code": dict(errors)},
        "cpu_percent": cpu_percent,
        "apiserver_cpu_ms_per_create": cpu_ms_per_call(
            cpu_percent.get("apiserver"), summary.per_second
        ),
    }


def cpu_ms_per_call(cpu_percent: float | None, per_second: float) -> float | None:
    """CPU milliseconds a process spent per call: what a call costs it whatever share of the
    host's CPUs it was given (None when it was not observed or nothing completed)."""
    if cpu_percent is None or not per_second > 0:
        return None
    return 10 * cpu_percent / per_second
