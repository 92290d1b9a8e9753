"""The first phase of the workloads that have one, not measured: for the preemption workloads,
every hollow node filled with low-priority pods, all bound before the measured pods are created
(scheduler_perf's PreemptionBasic and PreemptionAsync create their init pods, then their measured
ones); for the unschedulable workload, its pods that fit nowhere, created and not waited for
(Unschedulable's init pods, skipWaitToCompletion)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench.common.progress import Progress
from bench.scheduler.hollow_kubelet import HollowKubelet
from bench.scheduler.workloads import (
    UNSCHEDULABLE_INIT_PODS,
    low_priority_pod,
    node_name,
    preemption_split,
    unschedulable_init_pod,
)
from podplane.client.clientset import Client

CONCURRENCY = 24


def low_pod_name(index: int) -> str:
    return f"low-{index:06d}"


def init_pod_name(index: int) -> str:
    return f"init-{index:06d}"


async def fill_nodes(
    client: Client,
    namespace: str,
    run_id: str,
    count: int,
    timeout: float,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Creates `count` low-priority pods and waits until the scheduler has bound them all."""
    names = [low_pod_name(i) for i in range(count)]

    async def create_some(k: int) -> None:
        for name in names[k::CONCURRENCY]:
            await client.pods.create(low_priority_pod(name, namespace, run_id))

    await asyncio.gather(*(create_some(k) for k in range(CONCURRENCY)))
    deadline = time.monotonic() + timeout
    while True:
        bound, _ = await client.pods.list_all(namespace, field_selector="spec.nodeName!=")
        if progress is not None:
            progress(len(bound))
        if len(bound) >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"only {len(bound)} of the {count} low-priority pods were bound in {timeout:g} s"
            )
        await asyncio.sleep(0.5)


async def fill_for_preemption(
    client: Client,
    namespace: str,
    run_id: str,
    nodes: int,
    pods: int,
    timeout: float,
    progress: Progress,
    workload: str = "preemption",
) -> tuple[int, HollowKubelet]:
    """Starts the hollow kubelet, fills the nodes; returns the pods to measure and the kubelet
    (the caller stops it)."""
    low, high = preemption_split(nodes, pods, workload)
    progress.step(f"filling the nodes: {low} low-priority pods, bound before measuring")
    kubelet = HollowKubelet(client, namespace, node_name(run_id, 0).rsplit("-", 1)[0])
    kubelet.start()
    await fill_nodes(client, namespace, run_id, low, timeout, lambda n: progress.bar("low", n, low))
    progress.end_bar()
    return high, kubelet


async def create_unschedulable_init(
    client: Client, namespace: str, run_id: str, progress: Progress
) -> list[str]:
    """Creates the unschedulable workload's init pods, which fit no node; returns their names.
    Not waited for: the scheduler tries them while the measured pods come."""
    names = [init_pod_name(i) for i in range(UNSCHEDULABLE_INIT_PODS)]
    progress.step(f"creating {len(names)} pods that fit no node (not measured, not waited for)")

    async def create_some(k: int) -> None:
        for name in names[k::CONCURRENCY]:
            await client.pods.create(unschedulable_init_pod(name, namespace, run_id))

    await asyncio.gather(*(create_some(k) for k in range(CONCURRENCY)))
    return names
