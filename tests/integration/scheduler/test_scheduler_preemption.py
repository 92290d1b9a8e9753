"""Priority preemption by a real `python -m scheduler` against a real apiserver and etcd, with a
node registered through the API (nothing runs containers, so the test finishes the graceful
deletions as the node's kubelet would): a high-priority pod on a full node gets the low-priority
pod there marked DisruptionTarget, deleted gracefully and told (a Preempted event); it is
nominated to the node (status.nominatedNodeName) and bound there once the victim is gone. A pod
with preemptionPolicy Never waits instead; a PodDisruptionBudget sends the preemption to a node
where it breaks none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest_asyncio

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.client.clientset import Client, is_already_exists
from tests.integration.scheduler_processes import (
    SchedulerProcess,
    add_node,
    own_cluster,
    pod_requesting,
)
from tests.support import eventually, new_namespace


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[Client]:
    async with own_cluster() as client:
        await add_node(client, "node-a", cpu="2")
        yield client


@asynccontextmanager
async def scheduler_running(cluster: Client) -> AsyncIterator[SchedulerProcess]:
    """A scheduler, once SERVING: its informers synced."""
    process = SchedulerProcess.start(cluster.target, "--leader-elect=false")
    try:
        await eventually(process.serving, 20, what="the scheduler's health to be SERVING")
        yield process
    finally:
        await process.terminate()


@pytest_asyncio.fixture
async def scheduler(cluster: Client) -> AsyncIterator[SchedulerProcess]:
    async with scheduler_running(cluster) as process:
        yield process


async def prioritized(
    client: Client, name: str, ns: str, cpu: str, priority: int, policy: str = ""
) -> core_pb2.Pod:
    """A pod of the PriorityClass `priority-<n>[-<policy>]` (made if missing), whose value and
    preemption policy the Priority admission plugin gives it."""
    class_name = f"priority-{priority}" + (f"-{policy.lower()}" if policy else "")
    priority_class = scheduling_pb2.PriorityClass(
        metadata=meta_pb2.ObjectMeta(name=class_name), value=priority
    )
    if policy:
        priority_class.preemption_policy = policy
    try:
        await client.priorityclasses.create(priority_class)
    except Exception as e:
        if not is_already_exists(e):
            raise
    pod = pod_requesting(name, ns, cpu)
    pod.spec.priority_class_name = class_name
    return pod


async def running_low_priority_pod(client: Client, ns: str) -> core_pb2.Pod:
    await client.pods.create(await prioritized(client, "low", ns, "2", 1))

    async def bound() -> core_pb2.Pod | None:
        pod = await client.pods.get("low", ns)
        return pod if pod.spec.node_name == "node-a" else None

    return await eventually(bound, 20, what=f"{ns}/low to be bound to node-a")


def condition(pod: core_pb2.Pod, type_: str) -> core_pb2.PodCondition | None:
    return next((c for c in pod.status.conditions if c.type == type_), None)


async def test_a_high_priority_pod_preempts_a_low_one_and_is_bound_in_its_place(
    cluster: Client, scheduler: SchedulerProcess
) -> None:
    ns = await new_namespace(cluster, "preempt-")
    low = await running_low_priority_pod(cluster, ns)
    high = await cluster.pods.create(await prioritized(cluster, "high", ns, "2", 100))

    async def victim_marked() -> core_pb2.Pod | None:
        pod = await cluster.pods.get("low", ns)
        return pod if pod.metadata.deletion_timestamp else None

    victim = await eventually(victim_marked, 20, what="the victim's graceful deletion")
    target = condition(victim, "DisruptionTarget")
    assert target is not None
    assert (target.status, target.reason, target.message) == (
        "True",
        "PreemptionByScheduler",
        "default-scheduler: preempting to accommodate a higher priority pod",
    )
    assert victim.metadata.deletion_grace_period_seconds == 30  # its own grace period

    async def nominated() -> core_pb2.Pod | None:
        pod = await cluster.pods.get("high", ns)
        return pod if pod.status.nominated_node_name else None

    waiting = await eventually(nominated, 20, what="the preemptor's nomination")
    assert waiting.status.nominated_node_name == "node-a"
    assert not waiting.spec.node_name
    scheduled = condition(waiting, "PodScheduled")
    assert scheduled is not None
    assert (scheduled.status, scheduled.reason, scheduled.message) == (
        "False",
        "Unschedulable",
        "0/1 nodes are available: 1 Insufficient cpu.",
    )

    async def preempted_event() -> list[core_pb2.Event]:
        events = await cluster.events.list(ns, field_selector="involvedObject.name=low")
        return [e for e in events.items if e.reason == "Preempted"]

    (event,) = await eventually(preempted_event, 10, what="the Preempted event")
    assert (event.type, event.message, event.reporting_component) == (
        "Normal",
        f"Preempted by pod {high.metadata.uid} on node node-a",
        "default-scheduler",
    )

    # The node's kubelet has stopped the victim: it finishes the deletion.
    await cluster.pods.delete("low", ns, grace_period_seconds=0, uid=low.metadata.uid)

    async def bound() -> core_pb2.Pod | None:
        pod = await cluster.pods.get("high", ns)
        return pod if pod.spec.node_name else None

    placed = await eventually(bound, 20, what="the preemptor to be bound")
    assert placed.spec.node_name == "node-a"


async def test_a_pod_that_may_not_preempt_waits(
    cluster: Client, scheduler: SchedulerProcess
) -> None:
    ns = await new_namespace(cluster, "never-")
    await running_low_priority_pod(cluster, ns)
    never = await prioritized(cluster, "never", ns, "2", 100, policy="Never")
    await cluster.pods.create(never)

    async def unschedulable() -> str | None:
        pod = await cluster.pods.get("never", ns)
        scheduled = condition(pod, "PodScheduled")
        return scheduled.message if scheduled is not None else None

    message = await eventually(unschedulable, 20, what="never to be marked unschedulable")
    assert message == (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: not eligible due to preemptionPolicy=Never."
    )
    low = await cluster.pods.get("low", ns)
    never = await cluster.pods.get("never", ns)
    assert not low.metadata.deletion_timestamp and condition(low, "DisruptionTarget") is None
    assert (never.spec.node_name, never.status.nominated_node_name) == ("", "")


async def test_a_pod_disruption_budget_sends_the_preemption_to_another_node(
    cluster: Client,
) -> None:
    await add_node(cluster, "node-b", cpu="2")
    ns = await new_namespace(cluster, "pdb-")
    # web is the cheaper victim (priority 1 against 50), but its budget allows no disruption.
    budget = policy_pb2.PodDisruptionBudget(
        metadata=meta_pb2.ObjectMeta(name="web", namespace=ns),
        spec=policy_pb2.PodDisruptionBudgetSpec(
            min_available="1", selector=meta_pb2.LabelSelector(match_labels={"app": "web"})
        ),
    )
    created = await cluster.poddisruptionbudgets.create(budget)
    # As the disruption controller would write it: one healthy pod, one needed, none to spare.
    created.status.current_healthy = created.status.desired_healthy = 1
    created.status.expected_pods = 1
    created.status.disruptions_allowed = 0
    updated = await cluster.poddisruptionbudgets.update_status(created)

    # The scheduler starts once the apiserver's watch cache has the budget with its status: its
    # PDB informer's first list comes from that cache (resourceVersion "0"), and it schedules
    # only once that informer is synced.
    async def cached() -> bool:
        listed, _ = await cluster.poddisruptionbudgets.list_all(ns, resource_version="0")
        return [b.metadata.resource_version for b in listed] == [updated.metadata.resource_version]

    await eventually(cached, 20, what="the budget's status in the watch cache")
    async with scheduler_running(cluster):
        web = await prioritized(cluster, "web", ns, "2", 1)
        web.metadata.labels["app"] = "web"
        web.spec.node_selector["kubernetes.io/hostname"] = "node-a"
        db = await prioritized(cluster, "db", ns, "2", 50)
        db.spec.node_selector["kubernetes.io/hostname"] = "node-b"
        for pod in (web, db):
            await cluster.pods.create(pod)

        async def both_bound() -> bool:
            pods, _ = await cluster.pods.list_all(ns, field_selector="spec.nodeName!=")
            return len(pods) == 2

        await eventually(both_bound, 20, what="web and db to be bound")
        await cluster.pods.create(await prioritized(cluster, "high", ns, "2", 100))

        async def nominated() -> str:
            return (await cluster.pods.get("high", ns)).status.nominated_node_name

        assert await eventually(nominated, 20, what="the preemptor's nomination") == "node-b"
        assert (await cluster.pods.get("db", ns)).metadata.deletion_timestamp
        assert not (await cluster.pods.get("web", ns)).metadata.deletion_timestamp
