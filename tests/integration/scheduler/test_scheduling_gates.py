"""Scheduling gates against a real apiserver and etcd: a gated pod is never tried (no
FailedScheduling event, its SchedulingGated condition stays, a node added does not wake it), waits
while a gate is left, and is bound once an update removes its last gate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.integration.controller_support import informed
from tests.integration.scheduler_support import bound_pods, new_pod, register_node
from tests.support import eventually, new_namespace


@pytest_asyncio.fixture(scope="module")
async def cluster() -> AsyncIterator[Client]:
    with etcd_process() as etcd:
        async with running_apiserver(etcd) as server:
            client = Client(f"127.0.0.1:{server.port}", timeout=10)
            await register_node(client, "node-a", cpu="4")
            yield client
            await client.close()


@pytest_asyncio.fixture(scope="module")
async def scheduler(cluster: Client) -> AsyncIterator[Scheduler]:
    sched = Scheduler(cluster, Framework(in_tree_registry(), default_profile()))
    task = asyncio.ensure_future(sched.run())
    async with asyncio.timeout(20):
        await sched.wait_synced()
    yield sched
    await sched.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def condition(pod: core_pb2.Pod) -> tuple[str, str, str]:
    [scheduled] = [c for c in pod.status.conditions if c.type == "PodScheduled"]
    return scheduled.status, scheduled.reason, scheduled.message


async def without_gates(client: Client, pod: core_pb2.Pod, *removed: str) -> core_pb2.Pod:
    current = await client.pods.get(pod.metadata.name, pod.metadata.namespace)
    kept = [g for g in current.spec.scheduling_gates if g.name not in removed]
    del current.spec.scheduling_gates[:]
    current.spec.scheduling_gates.extend(kept)
    return await client.pods.update(current)


async def test_a_gated_pod_waits_for_its_last_gate(cluster: Client, scheduler: Scheduler) -> None:
    ns = await new_namespace(cluster, "gates-")
    pod = new_pod("gated", ns, schedulingGates=[{"name": "example.com/quota"}, {"name": "b"}])
    created = await cluster.pods.create(pod)
    assert condition(created) == (
        "False",
        "SchedulingGated",
        "Scheduling is blocked due to non-empty scheduling gates",
    )
    await cluster.pods.create(new_pod("free", ns))
    await bound_pods(cluster, ns, 1)

    async def gated_in_queue() -> bool:
        return scheduler.queue.where(pod) == "gated"

    await eventually(gated_in_queue, timeout=10, what="the pod among the gated ones")
    node = await register_node(cluster, "node-b", cpu="4")  # a cluster change wakes no gated pod
    updated = await without_gates(cluster, pod, "example.com/quota")
    # The scheduler's informers have handed both changes to its queue, which keeps the pod
    # among the gated ones: not to be tried.
    await informed(scheduler.nodes, node)
    await informed(scheduler.pods, updated)
    assert scheduler.queue.where(pod) == "gated"
    waiting = await cluster.pods.get("gated", ns)
    assert not waiting.spec.node_name
    assert condition(waiting)[1] == "SchedulingGated"
    events = await cluster.events.list(ns, field_selector="involvedObject.name=gated")
    assert [e.reason for e in events.items] == []  # never tried: no FailedScheduling

    await without_gates(cluster, pod, "b")
    [bound] = [p for p in await bound_pods(cluster, ns, 2) if p.metadata.name == "gated"]
    assert bound.spec.node_name in ("node-a", "node-b")
    assert condition(bound)[0] == "True"
