"""The leading scheduler and controller-manager killed (SIGKILL, no lease release) mid-work on the
compose cluster: the standby takes over through leader election once the lease expires, no pod is
bound twice and no replica created twice. Recovery times go to build/e2e/faults.json.
These tests stop services: they are disruptive (conftest.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from podplane.client.clientset import Client
from tests.e2e.compose_cluster import compose
from tests.e2e.faults import (
    drain,
    lease_holder,
    record,
    replica_set,
    run_compose,
    service_of_holder,
    sleeper_pod,
    stop_task,
    wait_healthy,
)
from tests.support import eventually

# It kills the leading scheduler and controller-manager: it runs alone, after the tests that share
# the cluster (conftest.py).
pytestmark = pytest.mark.disruptive

STANDBYS = ("scheduler", "scheduler-2", "controller-manager", "controller-manager-2")


@pytest_asyncio.fixture
async def restores_leaders(client: Client, namespace: str) -> AsyncIterator[None]:
    try:
        yield
    finally:
        compose("start", *STANDBYS, check=False)
        await wait_healthy(*STANDBYS)
        await drain(client, namespace)


class PodWatch:
    """Every pod event in a namespace: the nodes each pod was ever bound to, every pod ever seen."""

    def __init__(self, client: Client, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self.bound_to: dict[str, set[str]] = {}
        self.seen: dict[str, Any] = {}  # uid -> latest version
        self.alive: set[str] = set()  # uids neither deleted nor terminating
        self.most_alive = 0
        self.listed = False  # the watch goes on from its list: later writes come as events

    async def run(self) -> None:
        rv = (await self.client.pods.list(self.namespace)).metadata.resource_version
        self.listed = True
        async for event in self.client.pods.watch(self.namespace, resource_version=rv):
            pod = event.object
            self.seen[pod.metadata.uid] = pod
            if pod.spec.node_name:
                self.bound_to.setdefault(pod.metadata.name, set()).add(pod.spec.node_name)
            if event.type == "DELETED" or pod.metadata.deletion_timestamp:
                self.alive.discard(pod.metadata.uid)
            else:
                self.alive.add(pod.metadata.uid)
            self.most_alive = max(self.most_alive, len(self.alive))


async def test_killing_the_leading_scheduler_binds_no_pod_twice(
    client: Client, namespace: str, restores_leaders: None
) -> None:
    await wait_healthy(*STANDBYS)
    leader = service_of_holder(await lease_holder(client, "kube-scheduler"))
    watch = PodWatch(client, namespace)
    watching = asyncio.create_task(watch.run())
    await eventually(lambda: _listed(watch), 30, interval=0.05, what="the pod watch's list")

    async def create(i: int) -> None:
        await client.pods.create(sleeper_pod(f"p-{i}", namespace, "p"))

    try:
        # 50 pods at 10/s; the leader is killed after the first 15, the rest wait for the standby.
        for i in range(15):
            await create(i)
            await asyncio.sleep(0.1)
        killed = time.monotonic()
        await run_compose("kill", leader)
        for i in range(15, 50):
            await create(i)
            await asyncio.sleep(0.1)

        async def all_bound() -> bool:
            return len(watch.bound_to) == 50

        await eventually(all_bound, 90, interval=0.2, what="all 50 pods bound")
        recovered = time.monotonic() - killed
        new_leader = service_of_holder(await lease_holder(client, "kube-scheduler"))
        await asyncio.sleep(2)  # a late second bind would show in the watch
    finally:
        await stop_task(watching)
    assert new_leader != leader
    twice = {name: nodes for name, nodes in watch.bound_to.items() if len(nodes) > 1}
    assert not twice, f"pods bound twice: {twice}"
    for pod in (await client.pods.list(namespace)).items:
        assert watch.bound_to[pod.metadata.name] == {pod.spec.node_name}
    record("scheduler leader killed", all_50_pods_bound=recovered)


async def test_killing_the_leading_controller_manager_creates_no_replica_twice(
    client: Client, namespace: str, restores_leaders: None
) -> None:
    await wait_healthy(*STANDBYS)
    leader = service_of_holder(await lease_holder(client, "kube-controller-manager"))
    watch = PodWatch(client, namespace)
    watching = asyncio.create_task(watch.run())
    await eventually(lambda: _listed(watch), 30, interval=0.05, what="the pod watch's list")
    try:
        await client.replicasets.create(replica_set("rs", namespace, 30))

        async def first_replicas() -> bool:
            return len(watch.seen) > 0

        await eventually(first_replicas, 30, interval=0.05, what="the first replicas")
        killed = time.monotonic()
        await run_compose("kill", leader)
        at_kill = len(watch.seen)
        # Work for the standby: five replicas deleted while nobody leads.
        await eventually(lambda: _count(watch, 30), 30, interval=0.2, what="30 replicas")
        for pod in sorted(watch.seen.values(), key=lambda p: p.metadata.name)[:5]:
            await client.pods.delete(pod.metadata.name, namespace, grace_period_seconds=0)

        async def replaced() -> bool:
            return len(watch.alive) == 30 and len(watch.seen) >= 35

        await eventually(replaced, 90, interval=0.2, what="the five replicas replaced")
        recovered = time.monotonic() - killed
        new_leader = service_of_holder(await lease_holder(client, "kube-controller-manager"))
        await asyncio.sleep(3)  # a late extra replica would show in the watch
        rs = await client.replicasets.get("rs", namespace)
    finally:
        await stop_task(watching)
    assert new_leader != leader
    assert len(watch.seen) == 35, f"{len(watch.seen)} replicas ever created, not 30 + 5"
    assert watch.most_alive == 30, f"{watch.most_alive} replicas alive at once"
    live = [
        p for p in (await client.pods.list(namespace)).items if not p.metadata.deletion_timestamp
    ]
    assert len(live) == 30 and rs.status.replicas == 30
    print(f"{at_kill} replicas existed when the leader was killed")
    record("controller-manager leader killed", five_deleted_replicas_replaced=recovered)


async def _listed(watch: PodWatch) -> bool:
    return watch.listed


async def _count(watch: PodWatch, n: int) -> bool:
    return len(watch.seen) >= n
