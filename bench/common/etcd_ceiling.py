"""The ceiling (phase 1 of `podplane-bench apiserver`, and the scheduler load test's): raw etcd
transactions of the shape the apiserver sends, driven from several processes with many requests in
flight each.

- create: Txn(compare create_revision(key) == 0, success put), on a new key each time (a Create);
- CAS:    Txn(compare mod_revision(key) == expected, success put), each in-flight slot on its own
          key with the revision its previous put returned, so none conflicts (an Update)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import grpc

from bench.common import workers
from bench.common.measure import CpuObserver, Schedule, own_cpu_in, sleep_until
from bench.common.stats import Summary, summarize
from podplane.api.etcd import rpc_pb2 as pb
from podplane.api.etcd import rpc_pb2_grpc as pb_grpc
from podplane.apimachinery.json_types import JSONObject

# About the size of a small pod once the apiserver has defaulted it.
VALUE = b"v" * 512
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]


def etcd_target(endpoint: str) -> str:
    for scheme in ("http://", "https://"):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme) :]
    return endpoint


def create_txn(key: bytes) -> pb.TxnRequest:
    return pb.TxnRequest(
        compare=[
            pb.Compare(
                key=key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL, create_revision=0
            )
        ],
        success=[pb.RequestOp(request_put=pb.PutRequest(key=key, value=VALUE))],
    )


def cas_txn(key: bytes, mod_revision: int) -> pb.TxnRequest:
    return pb.TxnRequest(
        compare=[
            pb.Compare(
                key=key, target=pb.Compare.MOD, result=pb.Compare.EQUAL, mod_revision=mod_revision
            )
        ],
        success=[pb.RequestOp(request_put=pb.PutRequest(key=key, value=VALUE))],
    )


@dataclass(frozen=True)
class WorkerSpec:
    endpoint: str
    prefix: str
    inflight: int
    warmup: float
    duration: float


@dataclass
class Slot:
    """One in-flight request stream: its keys, its latest key's revision and what it measured."""

    name: str
    key: bytes = b""
    revision: int = 0
    made: int = 0


@dataclass
class Measured:
    latencies: list[float]
    errors: int = 0
    failed_compares: int = 0


async def _drive(
    schedule: Schedule, slots: list[Slot], one: Callable[[Slot], Awaitable[bool]]
) -> Measured:
    """Runs `one(slot)` back to back in every slot until the schedule ends."""
    out = Measured([])
    window = schedule.window

    async def loop(slot: Slot) -> None:
        while (started := time.time()) < schedule.end:
            t0 = time.perf_counter()
            try:
                ok = await one(slot)
            except grpc.aio.AioRpcError:
                out.errors += window.contains(started)
                await asyncio.sleep(0.01)
                continue
            if window.contains(started):
                out.latencies.append(time.perf_counter() - t0)
                out.failed_compares += not ok

    await sleep_until(schedule.begin)
    await asyncio.gather(*(loop(s) for s in slots))
    return out


@dataclass
class WorkerResult:
    """A worker's measurements by phase ("create", "cas"), and the CPU seconds it used in each."""

    measured: dict[str, Measured] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)


async def worker_main(conn: Connection, spec: WorkerSpec) -> None:
    channel = grpc.aio.insecure_channel(etcd_target(spec.endpoint), options=CHANNEL_OPTIONS)
    async with asyncio.timeout(10):
        await channel.channel_ready()
    kv = pb_grpc.KVStub(channel)
    slots = [Slot(f"{spec.prefix}/{i}") for i in range(spec.inflight)]

    async def create(slot: Slot) -> bool:
        slot.key = f"{slot.name}/{slot.made}".encode()
        slot.made += 1
        resp = await kv.Txn(create_txn(slot.key), timeout=30)
        slot.revision = resp.header.revision
        return bool(resp.succeeded)

    async def cas(slot: Slot) -> bool:
        resp = await kv.Txn(cas_txn(slot.key, slot.revision), timeout=30)
        slot.revision = resp.header.revision
        return bool(resp.succeeded)

    conn.send("ready")
    create_at, cas_at = await workers.receive(conn)
    result = WorkerResult()
    for name, begin, op in (("create", create_at, create), ("cas", cas_at, cas)):
        schedule = Schedule(begin, spec.warmup, spec.duration)
        cpu = asyncio.create_task(own_cpu_in(schedule.window))
        result.measured[name] = await _drive(schedule, slots, op)
        result.cpu[name] = await cpu
    await channel.close()
    conn.send(result)


@dataclass(frozen=True)
class Options:
    workers: int
    inflight: int
    warmup: float
    duration: float


async def run(endpoint: str, prefix: str, options: Options, observe_cpu: CpuObserver) -> JSONObject:
    """Both measurements; `observe_cpu(schedule)` is awaited alongside each for the servers' CPU."""
    specs = [
        WorkerSpec(endpoint, f"{prefix}/{w}", options.inflight, options.warmup, options.duration)
        for w in range(options.workers)
    ]
    group = workers.WorkerGroup(worker_main, specs)
    try:
        await group.receive_all(60, "connection to etcd")
        create = Schedule(time.time() + 0.5, options.warmup, options.duration)
        cas = Schedule(create.end + 0.5, options.warmup, options.duration)
        group.send_all((create.begin, cas.begin))
        cpu_create = asyncio.ensure_future(observe_cpu(create))
        cpu_cas = asyncio.ensure_future(observe_cpu(cas))
        results: list[WorkerResult] = await group.receive_all(
            create.end - time.time() + 3 * options.duration + 60, "etcd results"
        )
        out: JSONObject = {
            "workers": options.workers,
            "inflight_per_worker": options.inflight,
            "value_bytes": len(VALUE),
        }
        for name, schedule, cpu in (("create", create, cpu_create), ("cas", cas, cpu_cas)):
            parts = [r.measured[name] for r in results]
            summary: Summary = summarize(
                (lat for p in parts for lat in p.latencies),
                schedule.window.seconds,
                errors=sum(p.errors for p in parts),
            )
            out[name] = {
                **summary.to_json(),
                "failed_compares": sum(p.failed_compares for p in parts),
                "cpu_percent": {
                    **(await cpu),
                    "clients": 100 * sum(r.cpu[name] for r in results) / schedule.window.seconds,
                },
            }
        return out
    finally:
        group.stop()


async def delete_prefix(endpoint: str, prefix: str) -> None:
    """Removes the keys a run wrote (used against an etcd the benchmark did not start)."""
    async with grpc.aio.insecure_channel(etcd_target(endpoint)) as channel:
        # Every key is prefix + "/...": the range ["prefix/", "prefix0") holds exactly those.
        await pb_grpc.KVStub(channel).DeleteRange(
            pb.DeleteRangeRequest(key=f"{prefix}/".encode(), range_end=f"{prefix}0".encode()),
            timeout=60,
        )


async def server_version(endpoint: str) -> str:
    """The version a running etcd reports (Maintenance/Status)."""
    async with grpc.aio.insecure_channel(etcd_target(endpoint)) as channel:
        status = await pb_grpc.MaintenanceStub(channel).Status(pb.StatusRequest(), timeout=10)
        return str(status.version)
