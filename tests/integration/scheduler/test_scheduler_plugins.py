"""The placement plugins against a real apiserver and etcd, with Node objects registered through the
API (nothing runs containers): host ports, topology spread over zones, inter-pod affinity and
anti-affinity, and the FailedScheduling events that say why a pod waits."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from podplane.client.clientset import Client
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.integration.scheduler_support import (
    bound_pods,
    events_for,
    new_pod,
    register_node,
    unschedulable_condition,
)
from tests.support import eventually, new_namespace

# One node per zone.
ZONES = {"node-a": "a", "node-b": "b", "node-c": "c"}
# What preemption adds when every pod has the same priority: on nodes that other pods leaving
# could help there is none of lower priority to evict; on the others evicting cannot help.
NO_VICTIMS = " preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
NOT_HELPFUL = " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."


@pytest_asyncio.fixture(scope="module")
async def cluster() -> AsyncIterator[Client]:
    """A cluster of its own, so that the messages count exactly these three nodes."""
    with etcd_process() as etcd:
        async with running_apiserver(etcd) as server:
            client = Client(f"127.0.0.1:{server.port}", timeout=10)
            for name, zone in ZONES.items():
                await register_node(client, name, cpu="8", labels={"zone": zone})
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


@pytest_asyncio.fixture
async def namespace(cluster: Client, scheduler: Scheduler) -> AsyncIterator[str]:
    ns = await new_namespace(cluster, "plugins-")
    yield ns
    pods, _ = await cluster.pods.list_all(ns)
    for p in pods:
        await cluster.pods.delete(p.metadata.name, ns, grace_period_seconds=0)

    async def drained() -> bool:
        return scheduler.cache.pod_count() == 0

    await eventually(drained, timeout=10, what="the scheduler to forget the deleted pods")


def labeled_pod(name: str, ns: str, labels: dict[str, str], **spec: Any) -> Any:
    pod = new_pod(name, ns, **spec)
    pod.metadata.labels.update(labels)
    return pod


def host_port_pod(name: str, ns: str, port: int) -> Any:
    pod = new_pod(name, ns)
    pod.spec.containers[0].ports.add(container_port=80, host_port=port, protocol="TCP")
    return pod


def anti_affinity(app: str, key: str = "kubernetes.io/hostname") -> dict[str, Any]:
    return {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}
            ]
        }
    }


def affinity(app: str, key: str = "kubernetes.io/hostname") -> dict[str, Any]:
    return {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}
            ]
        }
    }


async def placement(client: Client, ns: str, count: int) -> dict[str, str]:
    """Pod name -> node name, once `count` pods of the namespace are bound."""
    return {p.metadata.name: p.spec.node_name for p in await bound_pods(client, ns, count)}


async def test_host_ports_put_one_pod_per_node_and_the_fourth_waits_for_a_free_port(
    cluster: Client, namespace: str
) -> None:
    for i in range(3):
        await cluster.pods.create(host_port_pod(f"port-{i}", namespace, 8080))
    placed = await placement(cluster, namespace, 3)
    assert sorted(placed.values()) == sorted(ZONES)
    await cluster.pods.create(host_port_pod("port-3", namespace, 8080))
    message = (
        "0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports."
        + NO_VICTIMS
    )
    assert (await unschedulable_condition(cluster, namespace, "port-3")).message == message
    assert (await events_for(cluster, namespace, "port-3", "FailedScheduling"))[
        0
    ].message == message
    # Another port fits anywhere; deleting a holder frees its node for the waiting pod.
    await cluster.pods.create(host_port_pod("other-port", namespace, 9090))
    await cluster.pods.delete("port-0", namespace, grace_period_seconds=0)
    after = await placement(cluster, namespace, 4)
    assert set(after) == {"port-1", "port-2", "port-3", "other-port"}
    assert after["port-3"] == placed["port-0"]


async def test_max_skew_one_over_three_zones_spreads_evenly(
    cluster: Client, namespace: str
) -> None:
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": "zone",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "spread"}},
        }
    ]
    for i in range(6):
        await cluster.pods.create(
            labeled_pod(
                f"spread-{i}", namespace, {"app": "spread"}, topologySpreadConstraints=spread
            )
        )
    placed = await placement(cluster, namespace, 6)
    assert Counter(ZONES[n] for n in placed.values()) == {"a": 2, "b": 2, "c": 2}


async def test_anti_affinity_puts_replicas_on_distinct_nodes_and_says_why_a_fourth_waits(
    cluster: Client, namespace: str
) -> None:
    for i in range(3):
        await cluster.pods.create(
            labeled_pod(f"anti-{i}", namespace, {"app": "anti"}, affinity=anti_affinity("anti"))
        )
    placed = await placement(cluster, namespace, 3)
    assert sorted(placed.values()) == sorted(ZONES)
    await cluster.pods.create(
        labeled_pod("anti-3", namespace, {"app": "anti"}, affinity=anti_affinity("anti"))
    )
    message = (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules." + NO_VICTIMS
    )
    assert (await events_for(cluster, namespace, "anti-3", "FailedScheduling"))[
        0
    ].message == message
    # A pod without terms of its own is kept off those nodes by the replicas' anti-affinity.
    await cluster.pods.create(labeled_pod("plain", namespace, {"app": "anti"}))
    message = (
        "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules."
        + NO_VICTIMS
    )
    assert (await events_for(cluster, namespace, "plain", "FailedScheduling"))[0].message == message


async def test_affinity_co_locates_with_the_pod_it_names(cluster: Client, namespace: str) -> None:
    await cluster.pods.create(
        labeled_pod("web-0", namespace, {"app": "web"}, affinity=affinity("cache"))
    )
    message = "0/3 nodes are available: 3 node(s) didn't match pod affinity rules." + NOT_HELPFUL
    assert (await events_for(cluster, namespace, "web-0", "FailedScheduling"))[0].message == message
    # The cache arrives: the waiting pod is retried at once (a bound pod is an event it waits on).
    await cluster.pods.create(labeled_pod("cache", namespace, {"app": "cache"}))
    cache_node = (await placement(cluster, namespace, 1))["cache"]
    for i in range(1, 4):
        await cluster.pods.create(
            labeled_pod(f"web-{i}", namespace, {"app": "web"}, affinity=affinity("cache"))
        )
    placed = await placement(cluster, namespace, 5)
    assert {placed[f"web-{i}"] for i in range(4)} == {cache_node}


async def test_the_first_pod_of_a_self_affine_group_is_not_left_waiting(
    cluster: Client, namespace: str
) -> None:
    for i in range(3):
        await cluster.pods.create(
            labeled_pod(
                f"group-{i}", namespace, {"app": "group"}, affinity=affinity("group", key="zone")
            )
        )
    placed = await placement(cluster, namespace, 3)
    assert len({ZONES[n] for n in placed.values()}) == 1


async def test_the_failed_scheduling_event_counts_each_reason_over_the_nodes(
    cluster: Client, namespace: str
) -> None:
    """node-a's port is taken; zones b and c already hold a matching pod while zone a has none."""
    holder = host_port_pod("holder", namespace, 7070)
    holder.spec.node_selector["kubernetes.io/hostname"] = "node-a"
    await cluster.pods.create(holder)
    for name in ("node-b", "node-c"):
        await cluster.pods.create(
            labeled_pod(
                f"mix-{name}",
                namespace,
                {"app": "mix"},
                nodeSelector={"kubernetes.io/hostname": name},
            )
        )
    await placement(cluster, namespace, 3)
    incoming = labeled_pod(
        "mix-new",
        namespace,
        {"app": "mix"},
        topologySpreadConstraints=[
            {
                "maxSkew": 1,
                "topologyKey": "zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "mix"}},
            }
        ],
    )
    incoming.spec.containers[0].ports.add(container_port=80, host_port=7070)
    await cluster.pods.create(incoming)
    event = (await events_for(cluster, namespace, "mix-new", "FailedScheduling"))[0]
    assert event.message == (
        "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, "
        "2 node(s) didn't match pod topology spread constraints." + NO_VICTIMS
    )
