"""`podplane-bench apiserver-overload`: many clients creating and updating pods while watchers
watch them, against an apiserver started with each given --max-mutating-requests-inflight (0: no
guard), to show what the overload guard does: accepted writes keep a low latency and the excess is
refused at once, where without it every caller waits longer.

Each writer is an asyncio task with its own gRPC connection and one request at a time (a closed
loop), alternating a create of a new pod and an update of the pod it created last. Watchers are
of two kinds, as on a cluster: node watchers (a kubelet's: the pods of one node, by the field
selector spec.nodeName, which the watch cache indexes), each pod being bound to one of their nodes,
and cluster watchers (a scheduler's or controller's informer: every pod of the run). Writers and
watchers are spread over worker processes. Calls go through raw stubs, not podplane's Client,
so that every refusal is seen and timed; a refused writer then waits the server's retry-after hint
plus up to 50 % jitter before its next call, as a well-behaved client (client-go) does."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import grpc

from bench.common import workers
from bench.common.measure import CpuObserver, Schedule, own_cpu_in, sleep_until
from bench.common.pods import CELL_LABEL, NAMESPACE, RUN_LABEL, SEQ_LABEL, small_pod
from bench.common.stats import summarize
from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import CHANNEL_OPTIONS
from podplane.client.retry_after import retry_after

VERBS = ("create", "update")
CALL_TIMEOUT = 120.0  # long: without the guard, latency is what is being measured


@dataclass(frozen=True)
class WorkerSpec:
    target: str
    run_id: str
    cell: str
    first_client: int
    clients: int
    first_node_watcher: int
    node_watchers: int
    total_node_watchers: int
    cluster_watchers: int


@dataclass
class VerbResults:
    """Calls started inside the measured window."""

    accepted: list[float] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class WatchResults:
    events: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def _channel(target: str) -> grpc.aio.Channel:
    # A connection of its own, as a separate client process would have.
    return grpc.aio.insecure_channel(
        target, options=[*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)]
    )


async def _writer(
    stub: services_pb2_grpc.PodsStub,
    spec: WorkerSpec,
    index: int,
    schedule: Schedule,
    results: dict[str, VerbResults],
) -> None:
    labels = {RUN_LABEL: spec.run_id, CELL_LABEL: spec.cell}
    window = schedule.window
    last: core_pb2.Pod | None = None
    n = 0
    while (started := time.time()) < schedule.end:
        if last is None or n % 2 == 0:
            verb = "create"
            request = small_pod(f"ov-{spec.run_id}-{spec.cell}-{index}-{n}", labels)
            if spec.total_node_watchers:
                request.spec.node_name = node_name(index % spec.total_node_watchers)
        else:
            verb = "update"
            request = last
            request.metadata.labels[SEQ_LABEL] = str(n)
        n += 1
        out = results[verb]
        t0 = time.perf_counter()
        try:
            call = stub.Create if verb == "create" else stub.Update
            last = await call(request, timeout=CALL_TIMEOUT)
            if window.contains(started):
                out.accepted.append(time.perf_counter() - t0)
        except grpc.aio.AioRpcError as e:
            latency = time.perf_counter() - t0
            hint = retry_after(e)
            if hint is not None:
                if window.contains(started):
                    out.refused.append(latency)
                await asyncio.sleep(hint * (1 + random.random() / 2))
                continue
            if window.contains(started):
                out.errors[e.code().name] += 1
            if verb == "update":
                last = None  # start again from a fresh pod
            await asyncio.sleep(0.05)


def node_name(index: int) -> str:
    """A node no kubelet runs: only the benchmark's node watchers look at its pods."""
    return f"bench-overload-node-{index}"


async def _watcher(
    stub: services_pb2_grpc.PodsStub, spec: WorkerSpec, node: str | None, out: WatchResults
) -> None:
    """The pods of `node`, or every pod of the run, from now (the warm-up leaves time for the
    streams to open)."""
    call = stub.Watch(
        meta_pb2.WatchRequest(
            namespace=NAMESPACE,
            label_selector=f"{RUN_LABEL}={spec.run_id}",
            field_selector=f"spec.nodeName={node}" if node else "",
            allow_watch_batches=True,
        )
    )
    try:
        async for msg in call:
            out.events += len(msg.events) or 1
        out.errors["ended by the server"] += 1
    except grpc.aio.AioRpcError as e:
        if e.code() != grpc.StatusCode.CANCELLED:
            out.errors[e.code().name] += 1
    except asyncio.CancelledError:
        call.cancel()


@dataclass
class WorkerResult:
    """A worker's calls by verb, the watch events its watchers received in the measured window,
    and the CPU seconds it used in that window."""

    verbs: dict[str, VerbResults]
    watch: WatchResults
    cpu: float


async def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    writer_channels = [_channel(spec.target) for _ in range(spec.clients)]
    nodes: list[str | None] = [
        node_name(spec.first_node_watcher + i) for i in range(spec.node_watchers)
    ]
    nodes += [None] * spec.cluster_watchers
    watch_channels = [_channel(spec.target) for _ in nodes]
    await asyncio.gather(*(c.channel_ready() for c in writer_channels + watch_channels))
    watched = WatchResults()
    watches = [
        asyncio.create_task(_watcher(resources.POD.stub(c), spec, node, watched))
        for c, node in zip(watch_channels, nodes, strict=True)
    ]
    conn.send("ready")
    begin, warmup, duration = await workers.receive(conn)
    schedule = Schedule(begin, warmup, duration)
    results = {verb: VerbResults() for verb in VERBS}
    cpu = asyncio.create_task(own_cpu_in(schedule.window))
    await sleep_until(schedule.begin)
    events_before = 0

    async def count_events_at_window_start() -> None:
        nonlocal events_before
        await sleep_until(schedule.window.start)
        events_before = watched.events

    counting = asyncio.create_task(count_events_at_window_start())
    await asyncio.gather(
        *(
            _writer(resources.POD.stub(c), spec, spec.first_client + i, schedule, results)
            for i, c in enumerate(writer_channels)
        )
    )
    await counting
    watched.events -= events_before
    for task in watches:
        task.cancel()
    await asyncio.gather(*watches, return_exceptions=True)
    for channel in writer_channels + watch_channels:
        with contextlib.suppress(Exception):
            await channel.close()
    conn.send(WorkerResult(results, watched, await cpu))


@dataclass(frozen=True)
class CellOptions:
    clients: int
    node_watchers: int
    cluster_watchers: int
    worker_processes: int
    warmup: float
    duration: float


async def run_cell(
    target: str, run_id: str, cell: str, options: CellOptions, observe_cpu: CpuObserver
) -> dict[str, Any]:
    """The load against the apiserver at `target`: per verb, accepted and refused calls."""
    specs: list[WorkerSpec] = []
    first = 0
    first_watcher = 0
    clients = workers.spread(options.clients, options.worker_processes)
    watchers = workers.spread(options.node_watchers, len(clients)) if options.node_watchers else []
    for i, n in enumerate(clients):
        node_watchers = watchers[i] if i < len(watchers) else 0
        specs.append(
            WorkerSpec(
                target,
                run_id,
                cell,
                first,
                n,
                first_watcher,
                node_watchers,
                options.node_watchers,
                options.cluster_watchers if i == 0 else 0,
            )
        )
        first += n
        first_watcher += node_watchers
    group = workers.WorkerGroup(worker_main, specs)
    try:
        await group.receive_all(180, "connections and watches")
        schedule = Schedule(time.time() + 0.5, options.warmup, options.duration)
        group.send_all((schedule.begin, options.warmup, options.duration))
        cpu = asyncio.ensure_future(observe_cpu(schedule))
        parts: list[WorkerResult] = await group.receive_all(
            schedule.end - time.time() + CALL_TIMEOUT + 60, "results"
        )
        seconds = schedule.window.seconds
        out: dict[str, Any] = {
            "clients": options.clients,
            "node_watchers": options.node_watchers,
            "cluster_watchers": options.cluster_watchers,
            "worker_processes": len(specs),
        }
        for verb in VERBS:
            verb_parts = [p.verbs[verb] for p in parts]
            errors: Counter[str] = Counter()
            for v in verb_parts:
                errors.update(v.errors)
            accepted = summarize(
                (x for v in verb_parts for x in v.accepted), seconds, errors=sum(errors.values())
            )
            refused = summarize((x for v in verb_parts for x in v.refused), seconds)
            out[verb] = {
                "accepted": accepted.to_json(),
                "refused": refused.to_json(),
                "errors_by_code": dict(errors),
            }
        watch_errors: Counter[str] = Counter()
        for p in parts:
            watch_errors.update(p.watch.errors)
        out["watch"] = {
            "events": sum(p.watch.events for p in parts),
            "events_per_second": sum(p.watch.events for p in parts) / seconds,
            "errors_by_code": dict(watch_errors),
        }
        out["cpu_percent"] = {**(await cpu), "clients": 100 * sum(p.cpu for p in parts) / seconds}
        return out
    finally:
        group.stop()
