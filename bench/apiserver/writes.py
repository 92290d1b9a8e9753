"""Phase 2: Pod creates, then updates of those pods (a label changed, resourceVersion sent, so
each is a compare-and-swap), by C concurrent clients. Each client is a task with its own gRPC
connection doing one request at a time (a closed loop); the clients are spread over worker
processes so that the client side does not share one Python core."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import grpc

from bench.common import workers
from bench.common.failures import WritesFailed, check_writes, first_messages
from bench.common.measure import CpuObserver, Schedule, own_cpu_in, sleep_until
from bench.common.pods import CELL_LABEL, RUN_LABEL, SEQ_LABEL, PodsConnection, small_pod
from bench.common.stats import summarize
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import status_code

GAP = 1.0  # seconds between the create and the update runs, for stragglers to finish


@dataclass(frozen=True)
class WorkerSpec:
    target: str
    run_id: str
    cell: str
    first_client: int
    clients: int
    warmup: float
    duration: float


@dataclass
class Measured:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    # The first failure's message for each code, to say why.
    messages: dict[str, str] = field(default_factory=dict)

    def failed(self, err: grpc.aio.AioRpcError) -> None:
        name = _error_name(err)
        self.errors[name] += 1
        self.messages.setdefault(name, err.details() or "")


@dataclass
class ClientState:
    index: int
    connection: PodsConnection
    pods: list[core_pb2.Pod] = field(default_factory=list)


def _error_name(err: grpc.aio.AioRpcError) -> str:
    code = status_code(err)
    return code.name if code is not None else type(err).__name__


async def _create_loop(
    spec: WorkerSpec, schedule: Schedule, client: ClientState, out: Measured
) -> None:
    labels = {RUN_LABEL: spec.run_id, CELL_LABEL: spec.cell}
    window = schedule.window
    n = 0
    while (started := time.time()) < schedule.end:
        pod = small_pod(f"bench-{spec.run_id}-{spec.cell}-{client.index}-{n}", labels)
        n += 1
        t0 = time.perf_counter()
        try:
            created = await client.connection.pods.create(pod)
        except grpc.aio.AioRpcError as e:
            if window.contains(started):
                out.failed(e)
            await asyncio.sleep(0.01)
            continue
        if window.contains(started):
            out.latencies.append(time.perf_counter() - t0)
        client.pods.append(created)


async def _update_loop(schedule: Schedule, client: ClientState, out: Measured) -> None:
    window = schedule.window
    n = 0
    while client.pods and (started := time.time()) < schedule.end:
        i = n % len(client.pods)
        pod = client.pods[i]
        pod.metadata.labels[SEQ_LABEL] = str(n)
        n += 1
        t0 = time.perf_counter()
        try:
            client.pods[i] = await client.connection.pods.update(pod)
        except grpc.aio.AioRpcError as e:
            if window.contains(started):
                out.failed(e)
            if status_code(e) == grpc.StatusCode.ABORTED:  # stale: start again from the server's
                with contextlib.suppress(grpc.aio.AioRpcError):
                    client.pods[i] = await client.connection.pods.get(
                        pod.metadata.name, pod.metadata.namespace
                    )
            else:
                await asyncio.sleep(0.01)
            continue
        if window.contains(started):
            out.latencies.append(time.perf_counter() - t0)


@dataclass
class WorkerResult:
    """A worker's measurements by phase ("create", "update"), the CPU seconds it used in each,
    and the pods its clients created."""

    measured: dict[str, Measured]
    cpu: dict[str, float]
    pods: int


async def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    clients = [
        ClientState(spec.first_client + i, await PodsConnection.open(spec.target))
        for i in range(spec.clients)
    ]
    conn.send("ready")
    create_at, update_at = await workers.receive(conn)
    create, update = Measured(), Measured()
    cpu_seconds: dict[str, float] = {}
    schedule = Schedule(create_at, spec.warmup, spec.duration)
    cpu = asyncio.create_task(own_cpu_in(schedule.window))
    await sleep_until(schedule.begin)
    await asyncio.gather(*(_create_loop(spec, schedule, c, create) for c in clients))
    cpu_seconds["create"] = await cpu
    schedule = Schedule(update_at, spec.warmup, spec.duration)
    cpu = asyncio.create_task(own_cpu_in(schedule.window))
    await sleep_until(schedule.begin)
    await asyncio.gather(*(_update_loop(schedule, c, update) for c in clients))
    cpu_seconds["update"] = await cpu
    result = WorkerResult(
        {"create": create, "update": update}, cpu_seconds, sum(len(c.pods) for c in clients)
    )
    for c in clients:
        await c.connection.close()
    conn.send(result)


@dataclass(frozen=True)
class Options:
    worker_processes: int
    warmup: float
    duration: float


async def run_cell(
    target: str, run_id: str, clients: int, options: Options, observe_cpu: CpuObserver
) -> JSONObject:
    """Creates then updates with `clients` concurrent clients: summaries, errors and CPU."""
    cell = f"w{clients}"
    specs: list[WorkerSpec] = []
    first = 0
    for n in workers.spread(clients, options.worker_processes):
        specs.append(WorkerSpec(target, run_id, cell, first, n, options.warmup, options.duration))
        first += n
    group = workers.WorkerGroup(worker_main, specs)
    try:
        await group.receive_all(120, "client connections")
        create = Schedule(time.time() + 0.5, options.warmup, options.duration)
        update = Schedule(create.end + GAP, options.warmup, options.duration)
        group.send_all((create.begin, update.begin))
        cpu = {
            "create": asyncio.ensure_future(observe_cpu(create)),
            "update": asyncio.ensure_future(observe_cpu(update)),
        }
        results: list[WorkerResult] = await group.receive_all(
            update.end - time.time() + 120, "write results"
        )
        out: JSONObject = {
            "clients": clients,
            "worker_processes": len(specs),
            "pods_created": sum(r.pods for r in results),
        }
        for name, schedule in (("create", create), ("update", update)):
            parts = [r.measured[name] for r in results]
            errors: Counter[str] = Counter()
            for p in parts:
                errors.update(p.errors)
            messages = first_messages(p.messages for p in parts)
            latencies = [lat for p in parts for lat in p.latencies]
            try:
                check_writes(f"{clients} clients, {name}s", len(latencies), errors, messages)
            except WritesFailed:
                for observing in cpu.values():
                    observing.cancel()
                raise
            summary = summarize(
                latencies,
                schedule.window.seconds,
                errors=sum(errors.values()),
            )
            out[name] = {
                **summary.to_json(),
                "errors_by_code": dict(errors),
                "cpu_percent": {
                    **(await cpu[name]),
                    "clients": 100 * sum(r.cpu[name] for r in results) / schedule.window.seconds,
                },
            }
        return out
    finally:
        group.stop()
