"""The scheduler's loop against a fake apiserver client: binds in the background, records events,
writes PodScheduled=False when nothing fits, and un-assumes and retries after a failed bind.
(tests/integration/scheduler/test_scheduler.py runs the same against a real apiserver and etcd.)"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler
from tests.unit.scheduler.fakes import FakeClient, wait_until
from tests.unit.scheduler.schedtest import node, pod


@pytest.fixture
def run_scheduler() -> Any:
    started: list[tuple[Scheduler, asyncio.Task[None]]] = []

    async def start(client: FakeClient) -> Scheduler:
        queue = SchedulingQueue(initial_backoff=0.05, max_backoff=0.2)
        scheduler = Scheduler(
            client,  # type: ignore[arg-type]
            Framework(in_tree_registry(), default_profile()),
            queue=queue,
            flush_interval=0.01,
        )
        started.append((scheduler, asyncio.ensure_future(scheduler.run())))
        async with asyncio.timeout(5):
            await scheduler.wait_synced()
        return scheduler

    yield start
    for _, task in started:
        task.cancel()


async def test_pods_are_bound_and_reported(run_scheduler: Any) -> None:
    client = FakeClient(
        [node("node-1", cpu="2"), node("node-2", cpu="2")],
        [pod(f"p{i}", cpu="1") for i in range(4)],
    )
    await run_scheduler(client)
    await wait_until(lambda: len(client.binds) == 4)
    assert sorted(n for _, n in client.binds) == ["node-1", "node-1", "node-2", "node-2"]
    await wait_until(lambda: len(client.events.created) == 4)
    event = next(e for e in client.events.created if e.involved_object.name == "p0")
    node_name = dict(client.binds)["p0"]
    assert (event.type, event.reason, event.action) == ("Normal", "Scheduled", "Binding")
    assert event.message == f"Successfully assigned default/p0 to {node_name}"
    # As kube-scheduler's events.k8s.io recorder makes it: no source, count or core timestamps.
    assert event.reporting_component == "default-scheduler" and not event.source.component
    assert event.involved_object.kind == "Pod" and event.event_time and not event.first_timestamp


async def test_a_pod_that_fits_nowhere_says_why_and_waits_for_a_node(run_scheduler: Any) -> None:
    client = FakeClient([node("node-1", cpu="1")], [pod("big", cpu="2")])
    await run_scheduler(client)
    await wait_until(lambda: bool(client.pods.status_updates))
    condition = client.pods.status_updates[-1].status.conditions[0]
    message = (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    )
    assert (condition.type, condition.status, condition.reason, condition.message) == (
        "PodScheduled",
        "False",
        "Unschedulable",
        message,
    )
    await wait_until(lambda: bool(client.events.created))
    event = client.events.created[0]
    assert (event.type, event.reason, event.message) == ("Warning", "FailedScheduling", message)
    client.nodes.emit("ADDED", node("node-2", cpu="4"))
    await wait_until(lambda: client.binds == [("big", "node-2")])
    assert len(client.pods.status_updates) == 1


async def test_a_failed_bind_is_forgotten_and_retried(run_scheduler: Any) -> None:
    client = FakeClient([node("node-1", cpu="1")], [pod("p", cpu="1")])
    client.bind_failures = [grpc.StatusCode.UNAVAILABLE]
    scheduler = await run_scheduler(client)
    await wait_until(lambda: bool(client.pods.status_updates))
    condition = client.pods.status_updates[-1].status.conditions[0]
    assert condition.reason == "SchedulerError"
    assert condition.message.startswith("Binding rejected: UNAVAILABLE")
    await wait_until(lambda: client.binds == [("p", "node-1")])
    info = scheduler.cache.node_info("node-1")
    assert info is not None and info.requested.milli_cpu == 1000 and len(info.pods) == 1
