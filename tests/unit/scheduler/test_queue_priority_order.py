"""The active queue's order, kube-scheduler's PrioritySort: higher spec.priority first (what the
Priority admission plugin resolved from the pod's class), then the pod that entered the queue
first; a pod whose priority changes while it waits takes its new place, and one that comes back
from back-off is ordered by when its attempt failed (kubernetes resets the timestamp then)."""

from __future__ import annotations

import pytest

from podplane.apimachinery import priority
from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from tests.unit.scheduler.schedtest import pod


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


NODE_CRITICAL = priority.SYSTEM_CRITICAL_PRIORITY + 1000


@pytest.mark.parametrize(
    "arrivals, want",
    [
        # (name, priority) in the order they are added, one second apart.
        ([("a", 0), ("b", 0), ("c", 0)], ["a", "b", "c"]),
        ([("low", -10), ("none", None), ("zero", 0)], ["none", "zero", "low"]),
        (
            [("user", priority.HIGHEST_USER_DEFINABLE_PRIORITY), ("critical", NODE_CRITICAL)],
            ["critical", "user"],
        ),
        (
            [("b1", 5), ("a1", 10), ("b2", 5), ("a2", 10), ("c", 1)],
            ["a1", "a2", "b1", "b2", "c"],
        ),
    ],
)
async def test_higher_priority_then_earlier_first(
    arrivals: list[tuple[str, int | None]], want: list[str]
) -> None:
    clock = Clock()
    queue = SchedulingQueue(clock=clock)
    for name, value in arrivals:
        queue.add(pod(name, priority=value))
        clock.now += 1
    assert [(await queue.pop()).pod.metadata.name for _ in want] == want


async def test_a_priority_change_while_waiting_takes_effect() -> None:
    clock = Clock()
    queue = SchedulingQueue(clock=clock)
    first, second = pod("first", priority=10), pod("second", priority=10)
    queue.add(first)
    clock.now += 1
    queue.add(second)
    raised = pod("second", priority=20)
    raised.metadata.uid = second.metadata.uid
    queue.update(second, raised)
    assert (await queue.pop()).pod.metadata.name == "second"


async def test_a_pod_back_from_backoff_is_ordered_by_when_its_attempt_failed() -> None:
    clock = Clock()
    queue = SchedulingQueue(clock=clock)
    queue.add(pod("retried", priority=5))
    failed = await queue.pop()
    queue.add_unschedulable_if_not_present(failed, error=True)  # to back-off, 1 s
    clock.now += 0.5
    queue.add(pod("newer", priority=5))
    queue.add(pod("higher", priority=6))
    clock.now += 1
    queue.flush()
    assert [(await queue.pop()).pod.metadata.name for _ in range(3)] == [
        "higher",
        "retried",
        "newer",
    ]
