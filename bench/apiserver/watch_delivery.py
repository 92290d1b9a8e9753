"""Phase 3: how long a written Pod takes to reach W concurrent watchers as an ADDED event.

Every watcher watches pods in the namespace with a label selector for this cell, from a
resourceVersion read just before (as an informer does after its list), over its own connection by
default. A sync pod is created first and every watcher must see it before measuring starts, so
all streams are known to be established. Then the coordinator creates pods at a fixed rate (an
open loop: each create starts on schedule, whatever the previous one is doing), each carrying the
wall-clock time its Create was sent in an annotation. Delivery latency is measured from that
write start to the watcher's receipt, and also from the write's acknowledgement (negative when the
event arrives before the reply). A watcher that never receives a pod has missed it."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import grpc

from bench.common import workers
from bench.common.failures import check_writes
from bench.common.measure import CpuObserver, Schedule
from bench.common.pods import (
    CELL_LABEL,
    CREATED_AT,
    NAMESPACE,
    RUN_LABEL,
    PodsConnection,
    small_pod,
)
from bench.common.stats import summarize
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import WatchStream, status_code

SYNC_TIMEOUT = 120.0


@dataclass(frozen=True)
class WorkerSpec:
    target: str
    cell: str
    resource_version: str
    watchers: int
    watchers_per_connection: int
    sync_name: str
    drain_timeout: float


@dataclass
class Watcher:
    stream: WatchStream
    # pod name -> wall-clock receipt time of its ADDED event
    received: dict[str, float] = field(default_factory=dict)
    created_at: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    synced: bool = False
    error: str = ""


@dataclass(frozen=True)
class WatcherResult:
    from_write_start: list[float]
    from_ack: list[float]
    missed: int
    duplicates: int
    error: str


async def _consume(
    w: Watcher, sync_name: str, synced: asyncio.Event, counter: list[int], total: int
) -> None:
    try:
        async for ev in w.stream:
            now = time.time()
            if ev.type != "ADDED":
                continue
            meta = ev.object.metadata
            if meta.name == sync_name:
                if not w.synced:
                    w.synced = True
                    counter[0] += 1
                    if counter[0] == total:
                        synced.set()
                continue
            if meta.name in w.received:
                w.duplicates += 1
                continue
            w.received[meta.name] = now
            w.created_at[meta.name] = int(meta.annotations.get(CREATED_AT, "0")) / 1e9
        w.error = "the server ended the stream"
    except grpc.aio.AioRpcError as e:
        if status_code(e) != grpc.StatusCode.CANCELLED:
            w.error = f"{e.code().name}: {e.details()}"
    except asyncio.CancelledError:
        pass


async def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    n_connections = math.ceil(spec.watchers / spec.watchers_per_connection)
    connections = await asyncio.gather(
        *(PodsConnection.open(spec.target, timeout=60) for _ in range(n_connections))
    )
    selector = f"{CELL_LABEL}={spec.cell}"
    watchers = [
        Watcher(
            connections[i % n_connections].pods.watch(
                NAMESPACE, resource_version=spec.resource_version, label_selector=selector
            )
        )
        for i in range(spec.watchers)
    ]
    synced, counter = asyncio.Event(), [0]
    tasks = [
        asyncio.create_task(_consume(w, spec.sync_name, synced, counter, len(watchers)))
        for w in watchers
    ]
    conn.send("opened")
    try:
        async with asyncio.timeout(SYNC_TIMEOUT):
            await synced.wait()
    except TimeoutError:
        pass  # reported: the coordinator sees fewer synced watchers
    conn.send(counter[0])
    cpu_before, wall_before = time.process_time(), time.time()
    acks: dict[str, float] = await workers.receive(conn)  # the pods written, with their acks
    cpu_percent = 100 * (time.process_time() - cpu_before) / (time.time() - wall_before)
    deadline = time.monotonic() + spec.drain_timeout
    while time.monotonic() < deadline and any(
        len(w.received) < len(acks) and not w.error for w in watchers
    ):
        await asyncio.sleep(0.05)
    for w in watchers:
        w.stream.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    results = []
    for w in watchers:
        seen = [name for name in acks if name in w.received]
        results.append(
            WatcherResult(
                from_write_start=[w.received[n] - w.created_at[n] for n in seen],
                from_ack=[w.received[n] - acks[n] for n in seen],
                missed=len(acks) - len(seen),
                duplicates=w.duplicates,
                error=w.error,
            )
        )
    for c in connections:
        await c.close()
    conn.send((results, cpu_percent))


@dataclass(frozen=True)
class Options:
    worker_processes: int
    watchers_per_connection: int
    rate: float
    duration: float
    # How long watchers may lag behind the last write before an undelivered event counts as missed.
    drain_timeout: float = 60.0


async def write_at_rate(
    connection: PodsConnection, run_id: str, cell: str, rate: float, duration: float
) -> tuple[dict[str, float], Counter[str], list[float]]:
    """Creates round(rate * duration) pods on schedule; their ack times, errors and latencies."""
    acks: dict[str, float] = {}
    errors: Counter[str] = Counter()
    messages: dict[str, str] = {}
    latencies: list[float] = []
    labels = {RUN_LABEL: run_id, CELL_LABEL: cell}

    async def write(name: str) -> None:
        sent = time.time_ns()
        t0 = time.perf_counter()
        try:
            await connection.pods.create(small_pod(name, labels, {CREATED_AT: str(sent)}))
        except grpc.aio.AioRpcError as e:
            errors[e.code().name] += 1
            messages.setdefault(e.code().name, e.details() or "")
            return
        latencies.append(time.perf_counter() - t0)
        acks[name] = time.time()

    begin = time.time()
    pending = []
    for i in range(round(rate * duration)):
        delay = begin + i / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(write(f"bench-{run_id}-{cell}-{i}")))
    await asyncio.gather(*pending)
    check_writes(f"{cell}: the creates watched", len(acks), errors, messages)
    return acks, errors, latencies


def delivery_summary(results: list[WatcherResult], window: float) -> JSONObject:
    """The cell's deliveries over every watcher: latency from write start and from ack, misses,
    duplicates, stream errors."""
    start = summarize((x for r in results for x in r.from_write_start), window)
    ack = summarize((x for r in results for x in r.from_ack), window)
    missed = [r.missed for r in results]
    return {
        "deliveries": start.count,
        "delivered_per_second": start.per_second,
        "from_write_start": start.to_json(),
        "from_ack": ack.to_json(),
        "missed_total": sum(missed),
        "watchers_missing_events": sum(1 for m in missed if m),
        "max_missed_per_watcher": max(missed, default=0),
        "duplicates": sum(r.duplicates for r in results),
        "stream_errors": dict(Counter(r.error for r in results if r.error)),
    }


async def run_cell(
    target: str, run_id: str, watchers: int, options: Options, observe_cpu: CpuObserver
) -> JSONObject:
    cell = f"watch{watchers}"
    connection = await PodsConnection.open(target)
    try:
        listed = await connection.pods.list(NAMESPACE, limit=1)
        sync_name = f"bench-{run_id}-{cell}-sync"
        per_process = workers.spread(watchers, options.worker_processes)
        specs = [
            WorkerSpec(
                target,
                cell,
                listed.metadata.resource_version,
                n,
                options.watchers_per_connection,
                sync_name,
                options.drain_timeout,
            )
            for n in per_process
        ]
        group = workers.WorkerGroup(worker_main, specs)
        try:
            opened_at = time.monotonic()
            await group.receive_all(SYNC_TIMEOUT, "watch streams")
            await connection.pods.create(
                small_pod(sync_name, {RUN_LABEL: run_id, CELL_LABEL: cell})
            )
            synced = sum(await group.receive_all(SYNC_TIMEOUT + 30, "watch sync"))
            setup_seconds = time.monotonic() - opened_at
            schedule = Schedule(time.time(), 0.0, options.duration)
            cpu = asyncio.ensure_future(observe_cpu(schedule))
            acks, errors, write_latencies = await write_at_rate(
                connection, run_id, cell, options.rate, options.duration
            )
            group.send_all(acks)
            replies: list[tuple[list[WatcherResult], float]] = await group.receive_all(
                options.drain_timeout + 60, "watch results"
            )
        finally:
            group.stop()
    finally:
        await connection.close()
    return {
        "watchers": watchers,
        "worker_processes": len(specs),
        "connections": sum(math.ceil(n / options.watchers_per_connection) for n in per_process),
        "synced_watchers": synced,
        "setup_seconds": setup_seconds,
        "writes": len(acks),
        "write_errors": dict(errors),
        "write_rate": options.rate,
        "write_latency": summarize(write_latencies, options.duration).to_json(),
        **delivery_summary([r for part, _ in replies for r in part], options.duration),
        "cpu_percent": {**(await cpu), "clients": sum(c for _, c in replies)},
    }
