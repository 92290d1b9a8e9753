"""The scheduler against a real apiserver and etcd: hollow nodes (Node objects with capacity and
Ready=True; nothing runs containers) and pods created through the API.

The scheduler sees every node and pending pod in its cluster, so these tests run it against a
cluster of their own (the same EtcdProcess and APIServer the shared fixtures use): objects other
test modules leave behind would otherwise change its decisions and messages."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from prometheus_client import REGISTRY

from podplane.apimachinery import quantity
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
from tests.support import ComponentProcess, eventually, free_port, new_namespace

ROOT = Path(__file__).resolve().parents[3]
GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
# node-1 and node-2 take ordinary pods; node-3 is cordoned; node-4 is tainted.
NODES: dict[str, dict[str, Any]] = {
    "node-1": {"cpu": "4", "labels": {"zone": "a", "disk": "ssd"}},
    "node-2": {"cpu": "4", "labels": {"zone": "b"}},
    "node-3": {"cpu": "8", "unschedulable": True},
    "node-4": {"cpu": "8", "taints": [GPU_TAINT]},
}
CORDONED_AND_TAINTED = (
    "1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable"
)
# What preemption adds when every pod has the same priority: evicting could not help on the
# cordoned and tainted nodes, and there is no pod of lower priority on the two others.
NO_VICTIMS_ON_TWO = (
    " preemption: 0/4 nodes are available: 2 No preemption victims found for incoming pod, "
    "2 Preemption is not helpful for scheduling."
)


# Its own etcd and apiserver: the scheduler sees every node and pending pod of its cluster, so
# other modules' leftovers would change the "0/N nodes are available" messages.
@pytest_asyncio.fixture(scope="module")
async def cluster() -> AsyncIterator[Client]:
    with etcd_process() as etcd:
        async with running_apiserver(etcd) as server:
            client = Client(f"127.0.0.1:{server.port}", timeout=10)
            for name, spec in NODES.items():
                await register_node(client, name, **spec)
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
    """A namespace for one test; its pods are deleted afterwards and gone from the scheduler's
    cache before the next test starts."""
    ns = await new_namespace(cluster, "s-")
    yield ns
    pods, _ = await cluster.pods.list_all(ns)
    for p in pods:
        await cluster.pods.delete(p.metadata.name, ns, grace_period_seconds=0)

    async def drained() -> bool:
        return scheduler.cache.pod_count() == 0

    await eventually(drained, timeout=10, what="the scheduler to forget the deleted pods")


def requested_cpu_by_node(pods: list[Any]) -> dict[str, int]:
    used: dict[str, int] = {}
    for p in pods:
        cpu = sum(
            quantity.milli_cpu(c.resources.requests.get("cpu", "0")) for c in p.spec.containers
        )
        used[p.spec.node_name] = used.get(p.spec.node_name, 0) + cpu
    return used


# ------------------------------------------------------------------ tests
async def test_pods_are_bound_to_nodes_that_fit(cluster: Client, namespace: str) -> None:
    for name, cpu in (("small", "100m"), ("medium", "1"), ("large", "3500m")):
        await cluster.pods.create(new_pod(name, namespace, cpu=cpu, memory="64Mi"))
    pods = await bound_pods(cluster, namespace, 3)
    assert {p.spec.node_name for p in pods} <= {"node-1", "node-2"}
    assert all(cpu <= 4000 for cpu in requested_cpu_by_node(pods).values())
    for p in pods:
        assert [(c.type, c.status) for c in p.status.conditions] == [("PodScheduled", "True")]

    [event] = await events_for(cluster, namespace, "medium", "Scheduled")
    node = next(p.spec.node_name for p in pods if p.metadata.name == "medium")
    assert (event.type, event.message) == (
        "Normal",
        f"Successfully assigned {namespace}/medium to {node}",
    )
    assert event.involved_object.kind == "Pod" and event.involved_object.namespace == namespace
    assert event.involved_object.uid == next(
        p.metadata.uid for p in pods if p.metadata.name == "medium"
    )
    # Made as kube-scheduler's events.k8s.io recorder makes it: eventTime, action and the
    # reporting controller and instance, none of the core fields events.k8s.io deprecates.
    assert event.reporting_component == "default-scheduler" and event.action == "Binding"
    assert event.reporting_instance.startswith("default-scheduler-")
    assert event.event_time and not event.HasField("series")
    assert not (event.count or event.first_timestamp or event.source.component)


async def test_a_pod_too_big_for_every_node_says_why(cluster: Client, namespace: str) -> None:
    await cluster.pods.create(new_pod("huge", namespace, cpu="16", memory="64Gi"))
    condition = await unschedulable_condition(cluster, namespace, "huge")
    message = (
        f"0/4 nodes are available: {CORDONED_AND_TAINTED}, "
        "2 Insufficient cpu, 2 Insufficient memory." + NO_VICTIMS_ON_TWO
    )
    assert (condition.reason, condition.message) == ("Unschedulable", message)
    [event] = await events_for(cluster, namespace, "huge", "FailedScheduling")
    assert (event.type, event.message) == ("Warning", message)
    assert event.reporting_component == "default-scheduler"


async def test_node_selector_is_obeyed(cluster: Client, namespace: str) -> None:
    for i in range(4):
        await cluster.pods.create(
            new_pod(f"in-b-{i}", namespace, cpu="100m", nodeSelector={"zone": "b"})
        )
    await cluster.pods.create(new_pod("in-c", namespace, nodeSelector={"zone": "c"}))
    pods = await bound_pods(cluster, namespace, 4)
    assert {p.spec.node_name for p in pods} == {"node-2"}
    condition = await unschedulable_condition(cluster, namespace, "in-c")
    assert condition.message == (
        f"0/4 nodes are available: {CORDONED_AND_TAINTED}, "
        "2 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."
    )


async def test_tolerating_pods_may_use_the_tainted_node(cluster: Client, namespace: str) -> None:
    await cluster.pods.create(
        new_pod(
            "gpu-job",
            namespace,
            cpu="6",
            tolerations=[
                {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
            ],
        )
    )
    [pod] = await bound_pods(cluster, namespace, 1)
    assert pod.spec.node_name == "node-4"


async def test_thirty_pods_at_once_never_overcommit(
    cluster: Client, scheduler: Scheduler, namespace: str
) -> None:
    # 30 x 500m against 2 x 4 cpu of schedulable nodes: exactly 16 fit.
    await asyncio.gather(
        *(cluster.pods.create(new_pod(f"burst-{i:02}", namespace, cpu="500m")) for i in range(30))
    )
    pods = await bound_pods(cluster, namespace, 16)

    async def every_pod_decided() -> bool:
        # Each pod bound, the binding back through the scheduler's informer (no bind in flight),
        # or waiting among the unschedulable ones: any (wrong) extra binding has landed.
        pods, _ = await cluster.pods.list_all(namespace)
        return all(
            scheduler.cache.contains(p) and not scheduler.cache.is_assumed(p)
            if p.spec.node_name
            else scheduler.queue.where(p) == "unschedulable"
            for p in pods
        )

    await eventually(every_pod_decided, timeout=20, what="every pod to be decided")
    pods, _ = await cluster.pods.list_all(namespace, field_selector="spec.nodeName!=")
    assert requested_cpu_by_node(pods) == {"node-1": 4000, "node-2": 4000}

    pending, _ = await cluster.pods.list_all(namespace, field_selector="spec.nodeName=")
    assert len(pending) == 14
    condition = await unschedulable_condition(cluster, namespace, pending[0].metadata.name)
    assert condition.message == (
        f"0/4 nodes are available: {CORDONED_AND_TAINTED}, 2 Insufficient cpu." + NO_VICTIMS_ON_TWO
    )

    # Room freed by deleted pods goes to the waiting ones.
    for p in pods[:3]:
        await cluster.pods.delete(p.metadata.name, namespace, grace_period_seconds=0)
    pods = await bound_pods(cluster, namespace, 16)
    assert all(cpu <= 4000 for cpu in requested_cpu_by_node(pods).values())

    # The others were tried again: their FailedScheduling events count the attempts.
    still_pending, _ = await cluster.pods.list_all(namespace, field_selector="spec.nodeName=")
    assert len(still_pending) == 11

    async def counted_again() -> bool:
        events = await events_for(
            cluster, namespace, still_pending[0].metadata.name, "FailedScheduling"
        )
        return sum(e.series.count or 1 for e in events) >= 2

    await eventually(counted_again, timeout=20, what="the FailedScheduling events to count up")


def failed_attempts() -> float:
    """The in-process scheduler's unschedulable attempts so far (scheduler_schedule_attempts)."""
    labels = {"result": "unschedulable", "profile": "default-scheduler"}
    return REGISTRY.get_sample_value("scheduler_schedule_attempts_total", labels) or 0.0


async def test_a_pod_tried_again_and_again_has_its_attempts_counted_in_a_series(
    cluster: Client, namespace: str, scheduler: Scheduler
) -> None:
    """kube-scheduler's events.k8s.io recorder counts isomorphic FailedScheduling events in an
    EventSeries. Isomorphic includes the pod's resourceVersion (the event's regarding reference,
    client-go's getKey), which the PodScheduled=False written after the first attempt changes:
    the first attempt has an event of its own, every later one counts in a second event's
    series, written at its second occurrence and, after that, by the refresh."""
    before = failed_attempts()
    created = await cluster.pods.create(new_pod("stubborn", namespace, cpu="16", memory="64Gi"))
    await unschedulable_condition(cluster, namespace, "stubborn")
    marked = await cluster.pods.get("stubborn", namespace)

    async def seen_marked() -> bool:
        cached = scheduler.pods.get(f"{namespace}/stubborn")
        return cached is not None and cached.metadata.resource_version == (
            marked.metadata.resource_version
        )

    await eventually(seen_marked, timeout=10, what="the scheduler to see the pod marked")
    # Room freed on a node (a bound pod deleted) has the waiting pod tried again, in vain.
    for i in range(3):
        tried = failed_attempts()
        await cluster.pods.create(new_pod(f"filler-{i}", namespace, cpu="100m"))
        await bound_pods(cluster, namespace, 1)
        await cluster.pods.delete(f"filler-{i}", namespace, grace_period_seconds=0)

        async def tried_again(tried: float = tried) -> bool:
            return failed_attempts() > tried

        await eventually(tried_again, timeout=30, what="the waiting pod to be tried again")

    async def counted() -> list[Any] | None:
        # Between attempts (none in flight), and the series' counts written by the refresh.
        if scheduler.queue.where(marked) != "unschedulable":
            return None
        attempts = int(failed_attempts() - before)
        await scheduler.events.flush()
        await scheduler.events.refresh_series()
        events = await events_for(cluster, namespace, "stubborn", "FailedScheduling")
        first = [e for e in events if not e.HasField("series")]
        series = [e for e in events if e.HasField("series")]
        return (
            [attempts, first, series]
            if len(events) == 2 and len(series) == 1 and series[0].series.count == attempts - 1
            else None
        )

    attempts, [first], [series] = await eventually(
        counted, timeout=30, what="the series to count every attempt after the first"
    )
    assert attempts >= 4
    assert first.involved_object.resource_version == created.metadata.resource_version
    assert series.involved_object.resource_version == marked.metadata.resource_version
    assert series.series.last_observed_time > series.event_time > first.event_time
    assert first.message == series.message and first.action == series.action == "Scheduling"


async def test_a_waiting_pod_goes_to_a_node_added_later(
    cluster: Client, namespace: str, scheduler: Scheduler
) -> None:
    await cluster.pods.create(new_pod("patient", namespace, cpu="12"))
    await unschedulable_condition(cluster, namespace, "patient")
    await register_node(cluster, "node-big", cpu="16", memory="32Gi")
    try:
        [pod] = await bound_pods(cluster, namespace, 1)
        assert pod.spec.node_name == "node-big"
    finally:
        await cluster.pods.delete("patient", namespace, grace_period_seconds=0)
        await cluster.nodes.delete("node-big")

        async def node_gone() -> bool:
            return scheduler.cache.node_info("node-big") is None

        await eventually(node_gone, timeout=10, what="node-big to leave the scheduler's cache")


async def test_python_m_scheduler_serves_health_and_stops_on_sigterm(
    cluster: Client, namespace: str, tmp_path: Path
) -> None:
    """The command-line scheduler, under its own name, binds only the pods that ask for it."""
    health_port = free_port()
    proc = ComponentProcess(
        tmp_path / "scheduler.log",
        "scheduler",
        "--server",
        cluster.target,
        "--health-port",
        str(health_port),
        "--scheduler-name",
        "second-scheduler",
        "--log-level",
        "DEBUG",
        "--metrics-bind-address",
        f"127.0.0.1:{free_port()}",
    )
    try:

        async def serving() -> bool:
            result = await asyncio.to_thread(
                subprocess.run,
                [
                    sys.executable,
                    "-m",
                    "podplane.componentbase.healthcheck",
                    f"127.0.0.1:{health_port}",
                ],
                capture_output=True,
                cwd=ROOT,
            )
            return result.returncode == 0

        await eventually(serving, timeout=20, what="the scheduler's health to be SERVING")

        await cluster.pods.create(
            new_pod("mine", namespace, cpu="100m", schedulerName="second-scheduler")
        )
        [pod] = await bound_pods(cluster, namespace, 1)
        assert pod.metadata.name == "mine"
        [event] = await events_for(cluster, namespace, "mine", "Scheduled")
        assert event.reporting_component == "second-scheduler"
    finally:
        code = await asyncio.to_thread(proc.stop, 15)
    log = proc.output()
    assert code == 0, log
    assert f"Successfully bound pod to node pod={namespace}/mine" in log
    assert "stopping" in log
