"""The measured phase of the scheduler load test: create the pods (at a rate, or all at once with a
number of calls in flight) while a watch on their namespace notes when each is seen bound
(spec.nodeName set) or marked unschedulable (PodScheduled=False)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field

from bench.common.pods import PodsConnection
from bench.scheduler.workloads import bench_pod, expected_unschedulable
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from podplane.client.credentials import Credentials
from podplane.client.streams import PodCreateStream


@dataclass
class Observed:
    """Times on time.monotonic(), by pod name."""

    created_at: dict[str, float] = field(default_factory=dict)
    bound_at: dict[str, float] = field(default_factory=dict)
    node_of: dict[str, str] = field(default_factory=dict)
    # The pods marked PodScheduled=False and not bound since.
    unschedulable_at: dict[str, float] = field(default_factory=dict)
    create_errors: int = 0
    first_create: float = 0.0
    last_create: float = 0.0
    timed_out: bool = False


def pod_name(index: int) -> str:
    return f"pod-{index:06d}"


def pod_index(name: str) -> int:
    return int(name.rsplit("-", 1)[1])


async def _follow(client: Client, namespace: str, resource_version: str, seen: Observed) -> None:
    stream = client.pods.watch(namespace, resource_version=resource_version)
    try:
        async for event in stream:
            pod = event.object
            name = pod.metadata.name
            # Only the pods this phase creates (not the preemption workload's first ones).
            if event.type in ("ADDED", "MODIFIED") and name in seen.created_at:
                if pod.spec.node_name:
                    if name not in seen.bound_at:
                        seen.bound_at[name] = time.monotonic()
                        seen.node_of[name] = pod.spec.node_name
                        # Marked unschedulable on the way (a preemptor waiting for its
                        # victims to go), but not left so.
                        seen.unschedulable_at.pop(name, None)
                elif name not in seen.unschedulable_at and any(
                    c.type == "PodScheduled" and c.status == "False" for c in pod.status.conditions
                ):
                    seen.unschedulable_at[name] = time.monotonic()
    finally:
        stream.cancel()


async def paced(
    count: int, per_second: float, start: Callable[[int], Coroutine[object, None, None]]
) -> None:
    """start(i) for i in range(count), each i / per_second seconds after the first, in a task
    of its own however many earlier ones are still running (an open loop)."""
    began = time.monotonic()
    started: list[asyncio.Task[None]] = []
    for i in range(count):
        # At least a yield each time, so that the ones started run even when behind.
        await asyncio.sleep(max(0.0, began + i / per_second - time.monotonic()))
        started.append(asyncio.create_task(start(i)))
    await asyncio.gather(*started)


async def in_flight(count: int, concurrency: int, start: Callable[[int], Awaitable[None]]) -> None:
    """start(i) for i in range(count), `concurrency` at a time, in order (a closed loop)."""
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < count:
            next_index += 1
            await start(next_index - 1)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))


async def _create_all(
    client: Client,
    target: str,
    namespace: str,
    workload: str,
    run_id: str,
    pods: int,
    rate: float | None,
    concurrency: int,
    connections: int,
    seen: Observed,
    credentials: Credentials | None,
    create_stream: bool,
) -> None:
    """Each pod is a Create call over one of `connections` gRPC connections, or with
    `create_stream` a request of the connection's pod create stream. With a rate, an open loop as
    clusterloader2's qpsLoad tuning set: pod i's create starts i / rate seconds after the first,
    however many earlier ones are still unanswered, so a slow apiserver shows as latency and not
    as a slower load. Without one, `concurrency` creates in flight take the next pod index."""
    conns = [
        await PodsConnection.open(target, credentials=credentials)
        for _ in range(max(1, connections))
    ]
    streams = [PodCreateStream(client, conn.channel) for conn in conns] if create_stream else []
    creates: list[Callable[[core_pb2.Pod], Awaitable[object]]] = (
        [stream.create for stream in streams] if streams else [conn.pods.create for conn in conns]
    )
    start = time.monotonic()
    seen.first_create = start

    async def create(i: int) -> None:
        name = pod_name(i)
        pod = bench_pod(name, namespace, i, workload, run_id)
        seen.created_at[name] = time.monotonic()
        try:
            await creates[i % len(creates)](pod)
        except Exception:  # noqa: BLE001 - counted, reported with the result
            seen.create_errors += 1
            del seen.created_at[name]

    try:
        if rate:
            await paced(pods, rate, create)
        else:
            await in_flight(pods, concurrency, create)
    finally:
        seen.last_create = time.monotonic()
        for stream in streams:
            await stream.close()
        for conn in conns:
            await conn.close()


async def run_pods(
    client: Client,
    target: str,
    namespace: str,
    workload: str,
    run_id: str,
    pods: int,
    rate: float | None,
    concurrency: int,
    connections: int,
    timeout: float,
    report: Callable[[Observed], None],
    after_create: Callable[[], Awaitable[None]] | None = None,
    *,
    create_stream: bool,
) -> Observed:
    """Creates the pods and waits until every schedulable one is bound and every unschedulable
    one marked, or `timeout` seconds pass; calls report(observed) four times a second, and
    after_create() once every pod is created (to start a scheduler then)."""
    seen = Observed()
    listed = await client.pods.list(namespace)
    follower = asyncio.create_task(
        _follow(client, namespace, listed.metadata.resource_version, seen)
    )
    creator = asyncio.create_task(
        _create_all(
            client,
            target,
            namespace,
            workload,
            run_id,
            pods,
            rate,
            concurrency,
            connections,
            seen,
            client.credentials,
            create_stream,
        )
    )
    unschedulable = expected_unschedulable(workload, pods)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if follower.done():
                follower.result()  # the watch failed: surface it
                raise RuntimeError("the pod watch ended early")
            if creator.done():
                creator.result()
                if after_create is not None:
                    await after_create()
                    after_create = None
                created = len(seen.created_at)
                if len(seen.bound_at) >= created - unschedulable and len(
                    seen.unschedulable_at
                ) >= min(unschedulable, created):
                    break
            if time.monotonic() > deadline:
                seen.timed_out = True
                break
            report(seen)
            await asyncio.sleep(0.25)
        report(seen)
        return seen
    finally:
        for task in (follower, creator):
            task.cancel()
        await asyncio.gather(follower, creator, return_exceptions=True)
