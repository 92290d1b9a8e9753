"""How long a written Pod takes to reach W watchers of one door as an ADDED event: the method of
bench/apiserver/watch_delivery.py, with the watchers on either door.

Each watcher watches the namespace's pods with this cell's label selector, from a resourceVersion
read just before (as an informer does after its list), on a connection of its own: a gRPC stream,
or an HTTP watch (GET ...?watch=1, newline-separated JSON events on a chunked response, each
decoded as a client must to learn which pod it is). A sync pod is created first and every watcher
must see it before measuring starts, so all streams are known to be established. Then one writer
creates pods at a fixed rate over gRPC, the same writer for both doors, each carrying the
wall-clock time its Create was sent in an annotation. Delivery latency is measured from that
write start to the watcher's receipt and from the write's acknowledgement (negative when the
event arrives before the reply): the moment the apiserver accepted the write lies between the
two. A watcher that never receives a pod has missed it."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import aiohttp
import grpc

from bench.apiserver.watch_delivery import WatcherResult, delivery_summary, write_at_rate
from bench.apiserver_doors.creators import collection_path, http_session, warm_connection
from bench.apiserver_doors.doors import GRPC, HTTP, Doors
from bench.common import workers
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
from podplane.client.clientset import status_code

SYNC_TIMEOUT = 120.0
# An HTTP watch's lines are objects of a few kB; a batch is several.
READ_BUFFER = 1 << 20


@dataclass(frozen=True)
class WorkerSpec:
    door: str
    doors: Doors
    cell: str
    resource_version: str
    watchers: int
    sync_name: str
    drain_timeout: float


@dataclass
class Watcher:
    """What one watcher received: pod name -> wall-clock receipt of its ADDED event, and the
    write start its annotation carried."""

    sync_name: str
    received: dict[str, float] = field(default_factory=dict)
    created_at: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    error: str = ""

    def added(self, name: str, created_at_ns: str, now: float) -> None:
        if name == self.sync_name:
            self.synced.set()
        elif name in self.received:
            self.duplicates += 1
        else:
            self.received[name] = now
            self.created_at[name] = int(created_at_ns or "0") / 1e9

    def result(self, acks: dict[str, float]) -> WatcherResult:
        seen = [name for name in acks if name in self.received]
        return WatcherResult(
            from_write_start=[self.received[n] - self.created_at[n] for n in seen],
            from_ack=[self.received[n] - acks[n] for n in seen],
            missed=len(acks) - len(seen),
            duplicates=self.duplicates,
            error=self.error,
        )


def watch_query(resource_version: str, label_selector: str) -> str:
    return urllib.parse.urlencode(
        {"watch": "1", "resourceVersion": resource_version, "labelSelector": label_selector}
    )


async def _watch_grpc(w: Watcher, connection: PodsConnection, spec: WorkerSpec) -> None:
    stream = connection.pods.watch(
        NAMESPACE,
        resource_version=spec.resource_version,
        label_selector=f"{CELL_LABEL}={spec.cell}",
    )
    try:
        async for ev in stream:
            now = time.time()
            if ev.type == "ADDED":
                meta = ev.object.metadata
                w.added(meta.name, meta.annotations.get(CREATED_AT, ""), now)
        w.error = "the server ended the stream"
    except grpc.aio.AioRpcError as e:
        if status_code(e) != grpc.StatusCode.CANCELLED:
            w.error = f"{e.code().name}: {e.details()}"
    finally:
        stream.cancel()


async def _watch_http(w: Watcher, session: aiohttp.ClientSession, spec: WorkerSpec) -> None:
    url = (
        collection_path(NAMESPACE)
        + "?"
        + watch_query(spec.resource_version, f"{CELL_LABEL}={spec.cell}")
    )
    try:
        async with session.get(url, headers={"Accept": "application/json"}) as response:
            if response.status != 200:
                w.error = f"HTTP {response.status}"
                return
            async for line in response.content:
                if not line.strip():
                    continue
                event = json.loads(line)
                now = time.time()
                if event.get("type") == "ADDED":
                    meta = event["object"]["metadata"]
                    w.added(meta["name"], (meta.get("annotations") or {}).get(CREATED_AT, ""), now)
                elif event.get("type") == "ERROR":
                    w.error = f"ERROR event: {event['object'].get('message', '')}"
                    return
        w.error = "the server ended the stream"
    except aiohttp.ClientError as e:
        w.error = f"{type(e).__name__}: {e}"


async def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    watchers = [Watcher(spec.sync_name) for _ in range(spec.watchers)]
    if spec.door == GRPC:
        grpc_connections = await asyncio.gather(
            *(
                PodsConnection.open(spec.doors.grpc_target, 60, spec.doors.credentials())
                for _ in watchers
            )
        )
        tasks = [
            asyncio.create_task(_watch_grpc(w, c, spec))
            for w, c in zip(watchers, grpc_connections, strict=True)
        ]
        closers = [c.close for c in grpc_connections]
    elif spec.door == HTTP:
        # No total deadline: the stream lasts the cell.
        timeout = aiohttp.ClientTimeout(total=None, connect=60)
        sessions = [http_session(spec.doors, timeout, READ_BUFFER) for _ in watchers]
        await asyncio.gather(*(warm_connection(s) for s in sessions))
        tasks = [
            asyncio.create_task(_watch_http(w, s, spec))
            for w, s in zip(watchers, sessions, strict=True)
        ]
        closers = [s.close for s in sessions]
    else:
        raise ValueError(f"unknown door {spec.door!r}")
    conn.send("opened")
    try:
        async with asyncio.timeout(SYNC_TIMEOUT):
            await asyncio.gather(*(w.synced.wait() for w in watchers))
    except TimeoutError:
        pass  # reported: the coordinator sees fewer synced watchers
    conn.send(sum(w.synced.is_set() for w in watchers))
    cpu_before, wall_before = time.process_time(), time.time()
    acks: dict[str, float] = await workers.receive(conn)  # the pods written, with their acks
    cpu_percent = 100 * (time.process_time() - cpu_before) / (time.time() - wall_before)
    deadline = time.monotonic() + spec.drain_timeout
    while time.monotonic() < deadline and any(
        len(w.received) < len(acks) and not w.error for w in watchers
    ):
        await asyncio.sleep(0.05)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for close in closers:
        await close()
    conn.send(([w.result(acks) for w in watchers], cpu_percent))


@dataclass(frozen=True)
class Options:
    worker_processes: int
    rate: float
    duration: float
    # How long watchers may lag behind the last write before an undelivered event counts as missed.
    drain_timeout: float = 60.0


async def run_cell(
    door: str, doors: Doors, run_id: str, watchers: int, options: Options, observe_cpu: CpuObserver
) -> JSONObject:
    cell = f"watch-{door}{watchers}"
    connection = await PodsConnection.open(doors.grpc_target, 30, doors.credentials())
    try:
        listed = await connection.pods.list(NAMESPACE, limit=1)
        sync_name = f"bench-{run_id}-{cell}-sync"
        specs = [
            WorkerSpec(
                door,
                doors,
                cell,
                listed.metadata.resource_version,
                n,
                sync_name,
                options.drain_timeout,
            )
            for n in workers.spread(watchers, options.worker_processes)
        ]
        group = workers.WorkerGroup(worker_main, specs)
        try:
            opened_at = time.monotonic()
            await group.receive_all(SYNC_TIMEOUT, "watch connections")
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
        "door": door,
        "watchers": watchers,
        "worker_processes": len(specs),
        "connections": watchers,
        "synced_watchers": synced,
        "setup_seconds": setup_seconds,
        "writes": len(acks),
        "write_errors": dict(errors),
        "write_rate": options.rate,
        "write_latency": summarize(write_latencies, options.duration).to_json(),
        **delivery_summary([r for part, _ in replies for r in part], options.duration),
        "cpu_percent": {**(await cpu), "clients": sum(c for _, c in replies)},
    }
