"""`podplane-bench scheduling-costs`: the CPU a pod's writes after its creation cost - its bind and
its Scheduled event - to the apiserver, etcd and the client that sends them, the way the scheduler
sends them. On an etcd and `python -m apiserver` of its own (processes, plaintext): PODS pods
created first (not measured), then bound, IN_FLIGHT binds at a time (--in-flight), then a
Scheduled event recorded for each through the scheduler's event recorder; each phase timed in
each process's CPU time.

The scheduler load test's CPU per pod is made of these, the scheduling decisions and the watch
messages; this measures the writes alone, in a few seconds, without the load test's noise."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
from collections.abc import Awaitable, Callable
from typing import Protocol

from bench.common.processes import ApiserverProcess, CpuMeter, EtcdProcess
from bench.common.results import write_json
from bench.common.service_accounts import ensure_default_account
from bench.scheduler.workloads import bench_pod
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import Client, binding, separate_channel
from podplane.client.events import NORMAL, EventRecorder
from podplane.client.retry_after import call_with_retry
from podplane.client.streams import BindStream, EventStream

# Binds in flight: the scheduler's bound when this benchmark's figures (docs/benchmarks.md) were
# taken; the scheduler keeps up to scheduler.MAX_BINDS_IN_FLIGHT now (--in-flight to match it).
IN_FLIGHT = 32
# The scheduler's binds before the bind stream: a Bind call each, over this many connections of
# their own, in turn.
CONNECTIONS = 4
NAMESPACE = "scheduling-costs"


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    p = sub.add_parser(
        "scheduling-costs",
        help="CPU per bind and per Scheduled event: apiserver, etcd, client",
        description=__doc__,
    )
    p.add_argument("--pods", type=positive, default=3000, help="pods bound (default 3000)")
    p.add_argument(
        "--in-flight",
        type=positive,
        default=IN_FLIGHT,
        help=f"binds in flight (default {IN_FLIGHT}, as the figures in the docs; the scheduler "
        "keeps up to scheduler.MAX_BINDS_IN_FLIGHT, fewer when pods arrive one by one)",
    )
    p.add_argument("--out", help="also write the result as JSON here")


async def _in_flight(
    count: int, one: Callable[[int], Awaitable[None]], in_flight: int = IN_FLIGHT
) -> None:
    """one(i) for every i < count, `in_flight` at a time."""
    indexes = iter(range(count))

    async def worker() -> None:
        for i in indexes:
            await one(i)

    await asyncio.gather(*(worker() for _ in range(in_flight)))


class _UnaryBinds:
    """A Bind call per binding, over CONNECTIONS connections in turn (the scheduler's binds before
    the bind stream)."""

    def __init__(self, client: Client) -> None:
        self._timeout = client.timeout
        self._channels = [separate_channel(client.target, None) for _ in range(CONNECTIONS)]
        self._stubs = itertools.cycle([resources.POD.stub(c) for c in self._channels])

    async def bind(self, namespace: str, name: str, node_name: str, uid: str) -> None:
        stub, request = next(self._stubs), binding(namespace, name, node_name, uid)
        await call_with_retry(
            lambda t: stub.Bind(request, timeout=t, wait_for_ready=True), self._timeout
        )

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()


class _Binder(Protocol):
    async def bind(self, namespace: str, name: str, node_name: str, uid: str) -> None: ...


async def _bind_all(binder: _Binder, pods: list[core_pb2.Pod], in_flight: int) -> None:
    async def bind(i: int) -> None:
        meta = pods[i].metadata
        await binder.bind(NAMESPACE, meta.name, f"node-{i % 100}", meta.uid)

    await _in_flight(len(pods), bind, in_flight)


async def _create_pods(client: Client, pods: int) -> list[core_pb2.Pod]:
    created: list[core_pb2.Pod] = [core_pb2.Pod()] * pods

    async def create(i: int) -> None:
        created[i] = await client.pods.create(bench_pod(f"pod-{i:06d}", NAMESPACE, i, "basic", ""))

    await _in_flight(pods, create)
    return created


async def _measure(pods: int, in_flight: int = IN_FLIGHT) -> JSONObject:
    etcd = EtcdProcess.start()
    log_dir = tempfile.mkdtemp(prefix="podplane-bench-scheduling-costs-")
    try:
        apiserver = ApiserverProcess.start(etcd.endpoint, log_dir)
        try:
            async with Client(apiserver.target, timeout=60) as client:
                await client.namespaces.create(
                    core_pb2.Namespace(metadata=meta_pb2.ObjectMeta(name=NAMESPACE))
                )
                # No controller-manager here makes the account its pods need.
                await ensure_default_account(client.serviceaccounts, NAMESPACE)
                created = await _create_pods(client, 2 * pods)
                meter = CpuMeter({"apiserver": apiserver.pid, "etcd": etcd.pid})
                bind_cost: dict[str, dict[str, float]] = {}
                for way, binder, bound in (
                    ("a call each", _UnaryBinds(client), created[:pods]),
                    ("the bind stream", BindStream(client), created[pods:]),
                ):
                    try:
                        bind_cost[way] = await meter.measure(
                            pods, _bind_all(binder, bound, in_flight)
                        )
                    finally:
                        await binder.close()
                event_cost: dict[str, dict[str, float]] = {}
                for way, stream, about in (
                    ("a call each", None, created[:pods]),
                    ("the event stream", EventStream, created[pods:]),
                ):
                    # Queued and written in the background, as the scheduler's recorder does.
                    recorder = EventRecorder(
                        client,
                        "default-scheduler",
                        instance="costs",
                        max_queued=pods,
                        stream=stream,
                    )
                    try:
                        event_cost[way] = await meter.measure(pods, _record_all(recorder, about))
                    finally:
                        await recorder.close()
        finally:
            apiserver.stop()
    finally:
        etcd.stop()
    return {"pods": pods, "in_flight": in_flight, "bind": bind_cost, "event": event_cost}


async def _record_all(recorder: EventRecorder, pods: list[core_pb2.Pod]) -> None:
    for pod in pods:
        recorder.record(pod, NORMAL, "Scheduled", "assigned", action="Binding")
    await recorder.flush(600)


def report(result: JSONObject) -> str:
    def line(what: str, cost: dict[str, float]) -> str:
        return (
            f"{what}: apiserver {cost['apiserver_us']:.0f} µs, etcd {cost['etcd_us']:.0f} µs, "
            f"client {cost['client_us']:.0f} µs of CPU ({cost['per_second']:.0f}/s)"
        )

    return "\n".join(
        [
            f"{result['pods']} pods, {result['in_flight']} in flight",
            *(line(f"a bind, {way}", cost) for way, cost in result["bind"].items()),
            *(line(f"a Scheduled event, {way}", cost) for way, cost in result["event"].items()),
        ]
    )


def run(args: argparse.Namespace) -> int:
    result = asyncio.run(_measure(args.pods, args.in_flight))
    print(report(result))
    if args.out:
        write_json(args.out, result)
    return 0
