"""`podplane-bench apiserver-overload`: one cell's load. Many workload writers creating and updating
pods, while the cluster's own traffic goes on and is measured against its deadlines: leader
electors renewing their Lease, and kubelets renewing their node Lease (the heartbeat) and watching
their pods.

Writers authenticate as the controller-manager; each is an asyncio task with its own TLS
connection and one request at a time (a closed loop), alternating a create of a new pod and an
update of the pod it created last. A refused call (RESOURCE_EXHAUSTED with a retry-after hint) is
retried after the hint plus up to 50 % jitter, as a well-behaved client does, until it goes
through: each attempt is timed (accepted or refused), and so is the whole call as its client
sees it, retries included. Calls go through raw stubs, not podplane's Client, so that every
refusal is seen.

Node agents (system:node:<node>) each watch the pods bound to their node (spec.nodeName, which the
watch cache indexes) and renew their Lease in kube-node-lease every heartbeat interval, with
podplane's client retries, the interval being the deadline: a heartbeat later than that is late
for the next. Cluster watchers (the scheduler's informer) watch every pod of the run. Leader
electors (podplane's LeaderElector: the scheduler on kube-scheduler, the controller-manager on its
own and further leases) renew every retry period (2 s); each renewal must succeed within the
renew deadline (10 s), or the leader would step down."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import grpc

from bench.apiserver.overload_cluster import SCHEDULER, WRITER, credentials, node_name
from bench.common import workers
from bench.common.failures import check_writes, first_messages
from bench.common.measure import CpuObserver, Schedule, own_cpu_in, sleep_until
from bench.common.pods import CELL_LABEL, NAMESPACE, RUN_LABEL, SEQ_LABEL, small_pod
from bench.common.stats import summarize
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.core.v1 import core_pb2, services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources, timeutil
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import CHANNEL_OPTIONS, ResourceClient
from podplane.client.leaderelection import (
    RENEW_DEADLINE,
    RETRY_PERIOD,
    LeaderElectionConfig,
    LeaderElector,
)
from podplane.client.retry_after import call_with_retry, retry_after

VERBS = ("create", "update")
CALL_TIMEOUT = 120.0  # long: without a guard, latency is what is being measured
# A call still being retried this long after the window gives up (counted as unfinished).
RETRY_GRACE = 10.0
NODE_LEASE_NAMESPACE = "kube-node-lease"
HEARTBEAT_INTERVAL = 10.0  # the kubelet's node lease renew interval
# The leases the electors renew, and as whom: the scheduler may renew kube-scheduler only.
ELECTORS = (
    (SCHEDULER, "kube-scheduler"),
    (WRITER, "kube-controller-manager"),
    *((WRITER, f"bench-elector-{i}") for i in range(2, 16)),
)


@dataclass(frozen=True)
class WorkerSpec:
    target: str
    pki_dir: str
    run_id: str
    cell: str
    first_client: int
    clients: int
    nodes: tuple[int, ...]  # the node agents this worker runs
    total_nodes: int
    cluster_watchers: int
    electors: int
    heartbeat_interval: float


@dataclass
class VerbResults:
    """Calls started inside the measured window: each attempt's latency, accepted or refused, and
    each call's latency as its client saw it (retries included)."""

    accepted: list[float] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)
    client_seen: list[float] = field(default_factory=list)
    unfinished: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    messages: dict[str, str] = field(default_factory=dict)  # the first error's, per code


@dataclass
class RenewalResults:
    """Renewals started inside the measured window: latencies of those that succeeded in time,
    and how many did not."""

    latencies: list[float] = field(default_factory=list)
    missed: int = 0
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class WatchResults:
    events: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def _channel(target: str, pki_dir: str, identity: str) -> grpc.aio.Channel:
    # A connection of its own, as a separate client process would have.
    return credentials(pki_dir, identity).aio_channel(
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
            if spec.total_nodes:
                request.spec.node_name = node_name(index % spec.total_nodes)
        else:
            verb = "update"
            request = last
            request.metadata.labels[SEQ_LABEL] = str(n)
        n += 1
        out, measured = results[verb], window.contains(started)
        call = stub.Create if verb == "create" else stub.Update
        t_call = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            try:
                last = await call(request, timeout=CALL_TIMEOUT)
            except grpc.aio.AioRpcError as e:
                hint = retry_after(e)
                if hint is None:
                    if measured:
                        out.errors[e.code().name] += 1
                        out.messages.setdefault(e.code().name, e.details() or "")
                    if verb == "update":
                        last = None  # start again from a fresh pod
                    await asyncio.sleep(0.05)
                    break
                if measured:
                    out.refused.append(time.perf_counter() - t0)
                wait = hint * (1 + random.random() / 2)
                if time.time() + wait > schedule.end + RETRY_GRACE:
                    if measured:  # at least this long, as its client would see it
                        out.client_seen.append(time.perf_counter() - t_call + wait)
                        out.unfinished += 1
                    return
                await asyncio.sleep(wait)
                continue
            if measured:
                out.accepted.append(time.perf_counter() - t0)
                out.client_seen.append(time.perf_counter() - t_call)
            break


async def _renew_periodically(
    renew: Callable[[], Awaitable[bool]],
    period: float,
    deadline: float,
    schedule: Schedule,
    out: RenewalResults,
) -> None:
    """Calls `renew()` (True: renewed) every `period` until the schedule ends; a renewal counts
    in time if it succeeds within `deadline`."""
    window = schedule.window
    while (started := time.time()) < schedule.end:
        t0 = time.perf_counter()
        ok = False
        try:
            async with asyncio.timeout(deadline):
                ok = bool(await renew())
        except TimeoutError:
            if window.contains(started):
                out.errors["deadline"] += 1
        except grpc.aio.AioRpcError as e:
            if window.contains(started):
                out.errors[e.code().name] += 1
        latency = time.perf_counter() - t0
        if window.contains(started):
            if ok and latency < deadline:
                out.latencies.append(latency)
            else:
                out.missed += 1
        await asyncio.sleep(max(period - latency, 0.0))


async def _elector(
    channel: grpc.aio.Channel, lease: str, schedule: Schedule, out: RenewalResults
) -> None:
    leases = ResourceClient(channel, resources.LEASE, RENEW_DEADLINE)
    elector = LeaderElector(leases, LeaderElectionConfig(lease, f"bench-{lease}"))
    await _renew_periodically(
        elector.try_acquire_or_renew, RETRY_PERIOD, RENEW_DEADLINE, schedule, out
    )


async def _heartbeat(
    channel: grpc.aio.Channel,
    node: str,
    first_delay: float,
    interval: float,
    schedule: Schedule,
    out: RenewalResults,
) -> None:
    stub = resources.LEASE.stub(channel)
    new = lease_pb2.Lease(
        metadata=meta_pb2.ObjectMeta(name=node, namespace=NODE_LEASE_NAMESPACE),
        spec=lease_pb2.LeaseSpec(holder_identity=node, lease_duration_seconds=40),
    )
    lease = await call_with_retry(lambda t: stub.Create(new, timeout=t), CALL_TIMEOUT)
    await asyncio.sleep(first_delay)  # the nodes' heartbeats spread over the interval

    async def renew() -> bool:
        nonlocal lease
        lease.spec.renew_time = timeutil.now_micro()
        lease = await call_with_retry(
            lambda t: stub.Update(lease, timeout=t, wait_for_ready=True), interval
        )
        return True

    await _renew_periodically(renew, interval, interval, schedule, out)


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
    """A worker's calls by verb, renewals, the watch events its watchers received in the measured
    window, and the CPU seconds it used in that window."""

    verbs: dict[str, VerbResults]
    elections: RenewalResults
    heartbeats: RenewalResults
    watch: WatchResults
    cpu: float


async def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    target, pki_dir = spec.target, spec.pki_dir
    writer_channels = [_channel(target, pki_dir, WRITER) for _ in range(spec.clients)]
    node_channels = {i: _channel(target, pki_dir, node_name(i)) for i in spec.nodes}
    cluster_channels = [_channel(target, pki_dir, SCHEDULER) for _ in range(spec.cluster_watchers)]
    elector_channels = [
        (_channel(target, pki_dir, who), lease) for who, lease in ELECTORS[: spec.electors]
    ]
    channels = [
        *writer_channels,
        *node_channels.values(),
        *cluster_channels,
        *(c for c, _ in elector_channels),
    ]
    await asyncio.gather(*(c.channel_ready() for c in channels))
    watched = WatchResults()
    watches = [
        asyncio.create_task(_watcher(resources.POD.stub(c), spec, node_name(i), watched))
        for i, c in node_channels.items()
    ] + [
        asyncio.create_task(_watcher(resources.POD.stub(c), spec, None, watched))
        for c in cluster_channels
    ]
    conn.send("ready")
    begin, warmup, duration = await workers.receive(conn)
    schedule = Schedule(begin, warmup, duration)
    results = {verb: VerbResults() for verb in VERBS}
    elections, heartbeats = RenewalResults(), RenewalResults()
    cpu = asyncio.create_task(own_cpu_in(schedule.window))
    await sleep_until(schedule.begin)
    events_before = 0

    async def count_events_at_window_start() -> None:
        nonlocal events_before
        await sleep_until(schedule.window.start)
        events_before = watched.events

    counting = asyncio.create_task(count_events_at_window_start())
    interval = spec.heartbeat_interval
    await asyncio.gather(
        *(
            _writer(resources.POD.stub(c), spec, spec.first_client + i, schedule, results)
            for i, c in enumerate(writer_channels)
        ),
        *(
            _heartbeat(
                c,
                node_name(i),
                interval * i / max(spec.total_nodes, 1),
                interval,
                schedule,
                heartbeats,
            )
            for i, c in node_channels.items()
        ),
        *(_elector(c, lease, schedule, elections) for c, lease in elector_channels),
    )
    await counting
    watched.events -= events_before
    for task in watches:
        task.cancel()
    await asyncio.gather(*watches, return_exceptions=True)
    for channel in channels:
        with contextlib.suppress(Exception):
            await channel.close()
    conn.send(WorkerResult(results, elections, heartbeats, watched, await cpu))


# What an overloaded apiserver may answer a write (besides a refusal with a retry-after hint,
# counted as refused): the benchmark measures these. Every other error is the benchmark's failure.
OVERLOAD_ERRORS = frozenset({"DEADLINE_EXCEEDED", "UNAVAILABLE", "RESOURCE_EXHAUSTED", "CANCELLED"})


def check_overloaded_writes(
    what: str, accepted: int, errors: Counter[str], messages: dict[str, str]
) -> None:
    """check_writes for an overloaded apiserver: errors of load are figures, not failures."""
    refused_otherwise = Counter({c: n for c, n in errors.items() if c not in OVERLOAD_ERRORS})
    check_writes(what, accepted, refused_otherwise, messages)


@dataclass(frozen=True)
class CellOptions:
    clients: int
    nodes: int
    cluster_watchers: int
    electors: int
    heartbeat_interval: float
    worker_processes: int
    warmup: float
    duration: float


def _renewals(parts: list[RenewalResults], seconds: float, deadline: float) -> JSONObject:
    errors: Counter[str] = Counter()
    for p in parts:
        errors.update(p.errors)
    missed = sum(p.missed for p in parts)
    summary = summarize((x for p in parts for x in p.latencies), seconds, errors=missed)
    return {
        **summary.to_json(),
        "deadline_seconds": deadline,
        "missed": missed,
        "errors_by_code": dict(errors),
    }


async def run_cell(
    target: str,
    pki_dir: str,
    run_id: str,
    cell: str,
    options: CellOptions,
    observe_cpu: CpuObserver,
) -> JSONObject:
    """The load against the apiserver at `target`: per verb, accepted and refused calls and the
    calls as their clients saw them; the renewals against their deadlines; watch events."""
    clients = workers.spread(options.clients, options.worker_processes)
    nodes = workers.spread(options.nodes, len(clients)) if options.nodes else []
    specs: list[WorkerSpec] = []
    first = first_node = 0
    for i, n in enumerate(clients):
        own_nodes = nodes[i] if i < len(nodes) else 0
        specs.append(
            WorkerSpec(
                target,
                pki_dir,
                run_id,
                cell,
                first,
                n,
                tuple(range(first_node, first_node + own_nodes)),
                options.nodes,
                options.cluster_watchers if i == 0 else 0,
                options.electors if i == 0 else 0,
                options.heartbeat_interval,
            )
        )
        first += n
        first_node += own_nodes
    group = workers.WorkerGroup(worker_main, specs)
    try:
        await group.receive_all(300, "connections and watches")
        schedule = Schedule(time.time() + 0.5, options.warmup, options.duration)
        group.send_all((schedule.begin, options.warmup, options.duration))
        cpu = asyncio.ensure_future(observe_cpu(schedule))
        parts: list[WorkerResult] = await group.receive_all(
            schedule.end - time.time() + CALL_TIMEOUT + RETRY_GRACE + 60, "results"
        )
        seconds = schedule.window.seconds
        out: JSONObject = {
            "clients": options.clients,
            "nodes": options.nodes,
            "cluster_watchers": options.cluster_watchers,
            "electors": options.electors,
            "worker_processes": len(specs),
        }
        for verb in VERBS:
            verb_parts = [p.verbs[verb] for p in parts]
            errors: Counter[str] = Counter()
            for v in verb_parts:
                errors.update(v.errors)
            check_overloaded_writes(
                f"{cell}: {verb}s",
                sum(len(v.accepted) for v in verb_parts),
                errors,
                first_messages(v.messages for v in verb_parts),
            )
            out[verb] = {
                "accepted": summarize(
                    (x for v in verb_parts for x in v.accepted),
                    seconds,
                    errors=sum(errors.values()),
                ).to_json(),
                "refused": summarize((x for v in verb_parts for x in v.refused), seconds).to_json(),
                "client_seen": summarize(
                    (x for v in verb_parts for x in v.client_seen), seconds
                ).to_json(),
                "unfinished": sum(v.unfinished for v in verb_parts),
                "errors_by_code": dict(errors),
            }
        out["leader_election"] = _renewals([p.elections for p in parts], seconds, RENEW_DEADLINE)
        out["node_heartbeat"] = _renewals(
            [p.heartbeats for p in parts], seconds, options.heartbeat_interval
        )
        watch_errors: Counter[str] = Counter()
        for p in parts:
            watch_errors.update(p.watch.errors)
        events = sum(p.watch.events for p in parts)
        out["watch"] = {
            "events": events,
            "events_per_second": events / seconds,
            "errors_by_code": dict(watch_errors),
        }
        out["cpu_percent"] = {**(await cpu), "clients": 100 * sum(p.cpu for p in parts) / seconds}
        return out
    finally:
        group.stop()
