"""`podplane-bench apiserver-costs`: where a pod's CPU goes in the apiserver, piece by piece, on a
throwaway etcd: each etcd Txn its client makes, each event its etcd watch receives, and its own
work on a pod it creates (decode, defaults, managed fields, validation, encode), timed in process
CPU time. The scheduler load test's figures (CPU per pod) are made of these and of gRPC serving
each call.

Only podplane's own apiserver modules are used, in process, as kubernetes' own storage and
validation benchmarks do."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable

import grpc

from apiserver.registry.generic.managed_fields import ManagedFields, Manager
from apiserver.registry.strategy import STRATEGIES
from apiserver.storage.etcd import EtcdClient, prefix_end
from bench.common.etcd_ceiling import etcd_target
from bench.common.processes import EtcdProcess
from bench.common.results import write_json
from bench.scheduler.workloads import bench_pod
from podplane.api.core.v1 import core_pb2
from podplane.api.etcd import rpc_pb2 as pb
from podplane.api.etcd import rpc_pb2_grpc as pb_grpc
from podplane.apimachinery import resources
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import user_agent

IN_FLIGHT = 24
VALUE_BYTES = 900  # about a load-test pod's stored size
WATCH_TIMEOUT = 300.0


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], positive: Callable[[str], int]
) -> None:
    p = sub.add_parser(
        "apiserver-costs",
        help="the apiserver's CPU per etcd call, per watch "
        "event and per pod it creates, piece by piece",
        description=__doc__,
    )
    p.add_argument(
        "--calls",
        type=positive,
        default=5000,
        help="etcd calls, watch events and pods measured (each)",
    )
    p.add_argument("--out", help="also write the result as JSON here")


async def etcd_txn_cpu(endpoint: str, calls: int) -> float:
    """CPU microseconds per create Txn through the apiserver's etcd client, IN_FLIGHT at a time."""
    client = EtcdClient([endpoint])
    try:
        await client.create(b"/costs/warm", b"x")
        keys = iter(range(calls))

        async def worker() -> None:
            for i in keys:
                await client.create(f"/costs/txn/{i}".encode(), b"x" * VALUE_BYTES)

        started = time.process_time()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return (time.process_time() - started) / calls * 1e6
    finally:
        await client.close()


async def etcd_watch_cpu(endpoint: str, events: int) -> tuple[float, float]:
    """CPU microseconds per event the apiserver's etcd watch receives, with the writes made by
    another process; and the events per response etcd sent."""
    client = EtcdClient([endpoint])
    prefix = b"/costs/watch/"
    try:
        revision = int((await client.status()).header.revision)
        stream = client.watch(
            prefix, prefix_end(prefix), revision + 1, progress_notify=True, prev_kv=False
        )
        writer = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.apiserver.costs",
                "write",
                endpoint,
                prefix.decode(),
                str(events),
            ]
        )
        got = responses = 0

        async def receive() -> None:
            nonlocal got, responses
            async for batch in stream:
                if not isinstance(batch, int):  # an int is a progress notification
                    got += len(batch)
                    responses += 1
                    if got >= events:
                        return

        started = time.process_time()
        try:
            async with asyncio.timeout(WATCH_TIMEOUT):
                await receive()
            cpu = time.process_time() - started
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
            writer.wait(timeout=60)
        if writer.returncode != 0:
            raise RuntimeError(f"the etcd writer exited with {writer.returncode}")
        return cpu / got * 1e6, got / responses
    finally:
        await client.close()


def create_steps_cpu(pods: int) -> dict[str, float]:
    """CPU microseconds per pod for each step of the apiserver's own work on a Create, over the
    load test's pods, each decoded afresh as a request is."""
    strategy = STRATEGIES["pods"]
    managed_fields: ManagedFields[core_pb2.Pod] = ManagedFields(resources.POD)
    manager = Manager(user_agent=user_agent("kube-scheduler"))
    requests = [
        bench_pod(f"pod-{i}", "bench", i, "basic", "costs").SerializeToString() for i in range(pods)
    ]
    steps = ("decode", "defaults", "managed fields", "prepare for create", "validate", "encode")
    totals = dict.fromkeys(steps, 0.0)
    for raw in requests:
        t0 = time.process_time()
        pod = core_pb2.Pod.FromString(raw)
        t1 = time.process_time()
        strategy.default(pod)
        t2 = time.process_time()
        managed_fields.created(pod, manager)
        t3 = time.process_time()
        strategy.prepare_for_create(pod)
        t4 = time.process_time()
        errs = strategy.validate(pod)
        t5 = time.process_time()
        pod.SerializeToString()
        t6 = time.process_time()
        if errs:
            raise RuntimeError(f"the load test's pod is invalid: {errs}")
        for step, seconds in zip(
            totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5), strict=True
        ):
            totals[step] += seconds
    return {step: seconds / pods * 1e6 for step, seconds in totals.items()}


async def _measure(calls: int) -> JSONObject:
    etcd = EtcdProcess.start()
    try:
        txn = await etcd_txn_cpu(etcd.endpoint, calls)
        watch, per_response = await etcd_watch_cpu(etcd.endpoint, calls)
    finally:
        etcd.stop()
    return {
        "calls": calls,
        "etcd_txn_cpu_us": txn,
        "etcd_watch_event_cpu_us": watch,
        "etcd_watch_events_per_response": per_response,
        "pod_create_steps_cpu_us": create_steps_cpu(calls),
    }


def report(result: JSONObject) -> str:
    steps = result["pod_create_steps_cpu_us"]
    lines = [
        f"etcd Txn (create), the apiserver's client, {IN_FLIGHT} in flight: "
        f"{result['etcd_txn_cpu_us']:.0f} µs CPU per call",
        f"etcd watch, the apiserver's stream: {result['etcd_watch_event_cpu_us']:.0f} µs CPU "
        f"per event ({result['etcd_watch_events_per_response']:.1f} events per response)",
        f"a pod Create's own work: {sum(steps.values()):.0f} µs ("
        + ", ".join(f"{step} {us:.1f}" for step, us in steps.items())
        + ")",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    result = asyncio.run(_measure(args.calls))
    print(report(result))
    if args.out:
        write_json(args.out, result)
    return 0


async def _write(endpoint: str, prefix: str, count: int) -> None:
    """The watch measurement's writer: `count` puts under `prefix`, IN_FLIGHT at a time."""
    async with grpc.aio.insecure_channel(etcd_target(endpoint)) as channel:
        kv = pb_grpc.KVStub(channel)
        keys = iter(range(count))

        async def worker() -> None:
            for i in keys:
                await kv.Put(pb.PutRequest(key=f"{prefix}{i}".encode(), value=b"x" * VALUE_BYTES))

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))


if __name__ == "__main__" and sys.argv[1:2] == ["write"]:
    asyncio.run(_write(sys.argv[2], sys.argv[3], int(sys.argv[4])))
