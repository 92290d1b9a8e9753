"""A replica's queue fills whether or not it leads, and hands out pods only while it leads."""

from __future__ import annotations

import asyncio

import pytest

from scheduler.backend.queue.leader_gated_queue import LeaderGatedQueue
from scheduler.backend.queue.scheduling_queue import QueueClosed
from tests.unit.scheduler.schedtest import pod
from tests.unit.waiting import until


async def test_a_standby_queues_pods_but_hands_none_out_until_it_leads() -> None:
    queue = LeaderGatedQueue(lease_valid=lambda: True)
    queue.add(pod("a"))
    queue.add(pod("b"))
    popping = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0.05)
    assert not popping.done() and queue.pending()["active"] == 2

    leading = asyncio.ensure_future(queue.lead())
    async with asyncio.timeout(1):
        assert (await popping).pod.metadata.name == "a"
    assert queue.leading
    leading.cancel()
    await asyncio.gather(leading, return_exceptions=True)
    assert not queue.leading

    # Leadership is over: "b" stays queued.
    popping = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0.05)
    assert not popping.done() and queue.where(pod("b")) == "active"
    popping.cancel()


async def test_a_pod_arriving_as_leadership_ends_is_put_back() -> None:
    queue = LeaderGatedQueue(lease_valid=lambda: True)
    leading = asyncio.ensure_future(queue.lead())
    await asyncio.sleep(0)
    popping = asyncio.ensure_future(queue.pop())
    await asyncio.sleep(0.01)  # pop waits for a pod
    leading.cancel()
    queue.add(pod("late"))  # wakes pop after leadership ended
    await asyncio.gather(leading, return_exceptions=True)
    await until(lambda: queue.where(pod("late")) == "backoff", "the late pod put back")
    await asyncio.sleep(0.05)  # and nothing handed out meanwhile
    assert not popping.done()
    popping.cancel()


async def test_close_ends_pop_leading_or_not() -> None:
    for leading in (False, True):
        queue = LeaderGatedQueue() if leading else LeaderGatedQueue(lease_valid=lambda: True)
        queue.add(pod("p"))
        if not leading:
            popping = asyncio.ensure_future(queue.pop())
            await asyncio.sleep(0.01)
        queue.close()
        if not leading:
            with pytest.raises(QueueClosed):
                async with asyncio.timeout(1):
                    await popping
        with pytest.raises(QueueClosed):  # what it holds is no longer handed out
            async with asyncio.timeout(1):
                await queue.pop()


async def test_without_leader_election_the_queue_is_open() -> None:
    queue = LeaderGatedQueue()
    queue.add(pod("p"))
    async with asyncio.timeout(1):
        assert (await queue.pop()).pod.metadata.name == "p"


async def test_no_pod_is_handed_out_once_the_lease_has_run_out() -> None:
    """A process paused past its renew deadline (SIGSTOP, a stalled host) resumes with lead() still
    running: the lease check stops it from deciding before the elector notices."""
    valid = True
    queue = LeaderGatedQueue(lease_valid=lambda: valid)
    leading = asyncio.ensure_future(queue.lead())
    queue.add(pod("a"))
    async with asyncio.timeout(1):
        assert (await queue.pop()).pod.metadata.name == "a"
    valid = False
    queue.add(pod("b"))
    popping = asyncio.ensure_future(queue.pop())
    await until(lambda: queue.where(pod("b")) == "backoff", "b put back")
    await asyncio.sleep(0.05)  # and nothing handed out meanwhile
    assert not popping.done()
    for task in (popping, leading):
        task.cancel()
    await asyncio.gather(popping, leading, return_exceptions=True)
