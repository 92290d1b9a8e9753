"""Preemption through the scheduler's loop, against a fake apiserver client: a high-priority pod
on a full node gets the victims marked and deleted, is nominated to the node (in memory at once,
status.nominatedNodeName written), waits for them to go and is bound there; lower-priority pods
keep off the room meanwhile; preemptionPolicy Never waits.
(tests/integration/scheduler/test_scheduler_preemption.py runs it against a real apiserver.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler
from tests.unit.scheduler.fakes import FakeClient, wait_until
from tests.unit.scheduler.schedtest import node, pod

Start = Callable[[FakeClient], Any]


@pytest_asyncio.fixture
async def run_scheduler() -> AsyncIterator[Start]:
    started: list[tuple[Scheduler, asyncio.Task[None]]] = []

    async def start(client: FakeClient) -> Scheduler:
        scheduler = Scheduler(
            client,  # type: ignore[arg-type]
            Framework(in_tree_registry(), default_profile()),
            queue=SchedulingQueue(initial_backoff=0.05, max_backoff=0.2),
            flush_interval=0.01,
        )
        started.append((scheduler, asyncio.ensure_future(scheduler.run())))
        async with asyncio.timeout(5):
            await scheduler.wait_synced()
        return scheduler

    yield start
    for scheduler, task in started:
        await scheduler.stop(timeout=1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def statuses_of(client: FakeClient, name: str) -> list[Any]:
    return [p.status for p in client.pods.status_updates if p.metadata.name == name]


async def test_a_high_priority_pod_preempts_and_is_bound_where_room_was_made(
    run_scheduler: Start,
) -> None:
    low = pod("low", cpu="2", priority=1, node_name="n1", phase="Running")
    high = pod("high", cpu="2", priority=100)
    client = FakeClient([node("n1", cpu="2")], [low, high])
    scheduler = await run_scheduler(client)

    await wait_until(lambda: client.pods.deleted == [("default", "low", low.metadata.uid)])
    condition = statuses_of(client, "low")[0].conditions[0]
    assert (condition.type, condition.reason) == ("DisruptionTarget", "PreemptionByScheduler")
    await wait_until(
        lambda: any(s.nominated_node_name == "n1" for s in statuses_of(client, "high"))
    )
    written = statuses_of(client, "high")[-1]
    assert written.conditions[0].message == "0/1 nodes are available: 1 Insufficient cpu."
    preempted = [e for e in client.events.created if e.reason == "Preempted"]
    assert [(e.involved_object.name, e.message) for e in preempted] == [
        ("low", f"Preempted by pod {high.metadata.uid} on node n1")
    ]
    assert [
        p.pod.metadata.name for p in scheduler.queue.nominator.nominated_pods_for_node("n1")
    ] == ["high"]

    # A lower-priority pod arriving meanwhile does not take the room once the victim is gone.
    client.pods.emit("ADDED", pod("latecomer", cpu="2", priority=1))
    client.pods.remove("default", "low")  # its kubelet is done with it
    await wait_until(lambda: ("high", "n1") in client.binds)
    await asyncio.sleep(0.2)
    assert ("latecomer", "n1") not in client.binds
    assert scheduler.queue.nominator.nominated_node_names() == set()


async def test_a_pod_with_preemption_policy_never_waits(run_scheduler: Start) -> None:
    low = pod("low", cpu="2", priority=1, node_name="n1", phase="Running")
    never = pod("never", cpu="2", priority=100, preemption_policy="Never")
    client = FakeClient([node("n1", cpu="2")], [low, never])
    await run_scheduler(client)
    await wait_until(lambda: bool(statuses_of(client, "never")))
    status = statuses_of(client, "never")[-1]
    assert status.conditions[0].message == (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: not eligible due to preemptionPolicy=Never."
    )
    assert not status.nominated_node_name
    assert client.pods.deleted == []
