"""The scheduling queue: priority order, back-off after failures, and unschedulable pods woken by
cluster changes or by time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.backend.queue.scheduling_queue import QueueClosed, SchedulingQueue
from scheduler.framework.cluster_events import PluginHint, QueueingHint
from tests.unit.scheduler.schedtest import pod


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(clock: Clock) -> SchedulingQueue:
    return SchedulingQueue(clock=clock)


async def _pop_names(queue: SchedulingQueue, n: int) -> list[str]:
    return [(await queue.pop()).pod.metadata.name for _ in range(n)]


async def test_higher_priority_first_then_oldest(queue: SchedulingQueue, clock: Clock) -> None:
    for name, priority in (("low", None), ("high", 100), ("mid", 10), ("low2", None)):
        queue.add(pod(name, priority=priority))
        clock.now += 1
    assert await _pop_names(queue, 4) == ["high", "mid", "low", "low2"]


async def test_a_pod_is_queued_once(queue: SchedulingQueue) -> None:
    p = pod("p")
    queue.add(p)
    queue.add(p)
    queue.update(p, p)
    assert queue.pending()["active"] == 1
    await queue.pop()
    assert queue.pending() == {
        "active": 0,
        "backoff": 0,
        "unschedulable": 0,
        "gated": 0,
        "in_flight": 1,
    }


async def test_pop_waits_for_a_pod(queue: SchedulingQueue) -> None:
    waiting = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    queue.add(pod("late"))
    async with asyncio.timeout(1):
        assert (await waiting).pod.metadata.name == "late"


async def test_close_wakes_pop(queue: SchedulingQueue) -> None:
    waiting = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0)
    queue.close()
    with pytest.raises(QueueClosed):
        async with asyncio.timeout(1):
            await waiting


@pytest.mark.parametrize("attempts, seconds", [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (9, 10)])
async def test_backoff_doubles_from_one_second_to_ten(
    queue: SchedulingQueue, attempts: int, seconds: float
) -> None:
    queue.add(pod("p"))
    pinfo = await queue.pop()
    pinfo.attempts = attempts
    assert queue.backoff_duration(pinfo) == seconds


async def test_a_failed_pod_waits_out_its_backoff(queue: SchedulingQueue, clock: Clock) -> None:
    queue.add(pod("p"))
    for attempt, wait in ((1, 1.0), (2, 2.0), (3, 4.0)):
        pinfo = await queue.pop()
        assert pinfo.attempts == attempt
        queue.add_unschedulable_if_not_present(pinfo, error=True)
        assert queue.where(pinfo.pod) == "backoff"
        clock.now += wait - 0.1
        queue.flush()
        assert queue.where(pinfo.pod) == "backoff"
        clock.now += 0.1
        queue.flush()
        assert queue.where(pinfo.pod) == "active"


async def test_unschedulable_pods_wake_on_cluster_events(
    queue: SchedulingQueue, clock: Clock
) -> None:
    queue.add(pod("p"))
    pinfo = await queue.pop()
    queue.add_unschedulable_if_not_present(pinfo)
    assert queue.where(pinfo.pod) == "unschedulable"
    # Still backing off: the event moves it to back-off, which then lets it go.
    queue.move_all_to_active_or_backoff("NodeAdd")
    assert queue.where(pinfo.pod) == "backoff"
    clock.now += 1
    queue.flush()
    assert queue.where(pinfo.pod) == "active"

    pinfo = await queue.pop()
    queue.add_unschedulable_if_not_present(pinfo)
    clock.now += 5
    queue.move_all_to_active_or_backoff("NodeUpdate")
    assert queue.where(pinfo.pod) == "active"


async def test_unschedulable_pods_are_retried_after_five_minutes(
    queue: SchedulingQueue, clock: Clock
) -> None:
    """kube-scheduler's podMaxInUnschedulablePodsDuration: with no cluster event at all, a pod
    waits five minutes among the unschedulable ones, then is tried again."""
    queue.add(pod("p"))
    pinfo = await queue.pop()
    queue.add_unschedulable_if_not_present(pinfo)
    clock.now += 299
    queue.flush()
    assert queue.where(pinfo.pod) == "unschedulable"
    clock.now += 1
    queue.flush()
    assert queue.where(pinfo.pod) == "active"


async def test_a_pod_that_keeps_failing_backs_off_1_2_4_8_then_10_seconds(
    queue: SchedulingQueue, clock: Clock
) -> None:
    """Every cluster event sends a failed pod to back-off; it leaves back-off 1 s after its first
    attempt, then 2, 4, 8 and at most 10 s after each further one."""
    queue.add(pod("p"))
    waits = []
    for _ in range(7):
        pinfo = await queue.pop()
        queue.add_unschedulable_if_not_present(pinfo)
        failed_at = clock.now
        while queue.where(pinfo.pod) != "active":
            clock.now += 0.25  # exact in binary: the waits add up exactly
            queue.move_all_to_active_or_backoff("NodeUpdate")  # the cluster keeps changing
            queue.flush()
        waits.append(clock.now - failed_at)
    assert waits == [1, 2, 4, 8, 10, 10, 10]


async def test_a_change_during_the_attempt_sends_the_pod_to_backoff(queue: SchedulingQueue) -> None:
    queue.add(pod("p"))
    pinfo = await queue.pop()
    queue.move_all_to_active_or_backoff("NodeAdd")  # while it was being scheduled
    queue.add_unschedulable_if_not_present(pinfo)
    assert queue.where(pinfo.pod) == "backoff"


async def test_updates_wake_an_unschedulable_pod_only_if_its_spec_changed(
    queue: SchedulingQueue, clock: Clock
) -> None:
    old = pod("p")
    queue.add(old)
    pinfo = await queue.pop()
    queue.add_unschedulable_if_not_present(pinfo)
    clock.now += 5
    status_only = core_pb2.Pod()
    status_only.CopyFrom(old)
    status_only.metadata.resource_version = "2"
    status_only.status.conditions.add(type="PodScheduled", status="False", reason="Unschedulable")
    # The scheduler's own status write is recorded as its manager's: no change of the pod's.
    status_only.metadata.managed_fields.add(
        manager="kube-scheduler", operation="Update", subresource="status"
    )
    queue.update(old, status_only)
    assert queue.where(old) == "unschedulable"
    relabelled = core_pb2.Pod()
    relabelled.CopyFrom(status_only)
    relabelled.metadata.labels["tier"] = "web"
    queue.update(status_only, relabelled)
    assert queue.where(old) == "active"


async def test_a_deleted_pod_leaves_every_queue(queue: SchedulingQueue) -> None:
    p: Any = pod("p")
    queue.add(p)
    pinfo = await queue.pop()
    queue.delete(p)
    queue.add_unschedulable_if_not_present(pinfo, error=True)
    assert queue.where(p) is None
    queue.add(p)
    queue.delete(p)
    assert queue.where(p) is None and queue.pending()["active"] == 0


async def test_an_event_asks_only_about_the_pods_its_plugins_rejected(
    queue: SchedulingQueue,
) -> None:
    """The waiting pods are indexed by the plugins that rejected them: an event only the plugin
    "Spread" registered for asks its hint about the one pod "Spread" rejected, not about the
    hundred "Fit" rejected (a scheduler binding hundreds of pods a second with a thousand
    waiting), and a hint that answers QUEUE moves the pod; one that answers SKIP leaves it."""
    asked: list[str] = []

    def hint(p: core_pb2.Pod, old: Any, new: Any) -> QueueingHint:
        asked.append(p.metadata.name)
        return QueueingHint.QUEUE if new == "helps" else QueueingHint.SKIP

    queue.queueing_hints = {"PodAdded": (PluginHint("Spread", hint),)}
    names = ["spread", *(f"fit-{i}" for i in range(100))]
    for name in names:
        queue.add(pod(name))
    for _ in names:
        pinfo = await queue.pop()
        pinfo.unschedulable_plugins = {"Spread" if pinfo.pod.metadata.name == "spread" else "Fit"}
        queue.add_unschedulable_if_not_present(pinfo)
    queue.move_all_to_active_or_backoff("PodAdded", None, "does not help")
    assert asked == ["spread"]
    assert queue.pending()["unschedulable"] == 101
    queue.move_all_to_active_or_backoff("PodAdded", None, "helps")
    assert queue.where(pod("spread")) == "backoff"
    assert queue.pending()["unschedulable"] == 100
    queue.move_all_to_active_or_backoff("NodeAdded")  # no plugin registered: nobody asked
    assert asked == ["spread", "spread"]
    assert queue.pending()["unschedulable"] == 100
