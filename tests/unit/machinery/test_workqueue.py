"""The work queue: one worker per key, no lost updates, back-off on failure."""

from __future__ import annotations

import asyncio

import pytest

from podplane.client.workqueue import ShutDown, WorkQueue


async def test_duplicates_collapse_while_queued() -> None:
    q: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "a"):
        q.add(key)
    assert len(q) == 2
    assert [await q.get(), await q.get()] == ["a", "b"]


async def test_key_added_while_processing_is_processed_again_after_done() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")  # changed while a worker holds it
    assert len(q) == 0  # not handed to a second worker
    q.done(key)
    assert len(q) == 1 and await q.get() == "a"


async def test_rate_limited_back_off_grows_and_forget_resets() -> None:
    q: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=1.0)
    q.add_rate_limited("a")
    q.add_rate_limited("a")
    assert q.num_requeues("a") == 2
    async with asyncio.timeout(1):
        got = await q.get()
    assert got == "a"
    q.done("a")
    q.forget("a")
    assert q.num_requeues("a") == 0


async def test_shutdown_wakes_waiting_workers() -> None:
    q: WorkQueue[str] = WorkQueue()
    waiter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    await q.shutdown()
    with pytest.raises(ShutDown):
        async with asyncio.timeout(1):
            await waiter


async def test_run_worker_processes_keys_one_at_a_time_until_shutdown() -> None:
    q: WorkQueue[str] = WorkQueue()
    seen: list[str] = []

    async def process(key: str) -> None:
        seen.append(key)
        if key == "a" and seen.count("a") == 1:
            q.add("a")  # changed while being processed: processed again afterwards
        await asyncio.sleep(0)

    worker = asyncio.create_task(q.run_worker(process))
    q.add("a")
    q.add("b")
    for _ in range(50):
        await asyncio.sleep(0)
    await q.shutdown()
    async with asyncio.timeout(1):
        await worker
    assert seen == ["a", "b", "a"]


async def test_a_key_added_after_waits_for_the_sooner_of_two_times() -> None:
    q: WorkQueue[str] = WorkQueue()
    q.add_after("a", 60.0)
    q.add_after("a", 0.01)  # sooner: replaces the wait
    q.add_after("a", 30.0)  # later than the one waiting: nothing more
    async with asyncio.timeout(1):
        assert await q.get() == "a"
    q.done("a")
    await asyncio.sleep(0.05)
    assert len(q) == 0  # the later times were not kept


async def test_each_key_added_wakes_one_waiting_worker() -> None:
    q: WorkQueue[str] = WorkQueue()
    workers = [asyncio.create_task(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    q.add("a")
    q.add("b")
    for _ in range(5):
        await asyncio.sleep(0)
    assert sorted(w.result() for w in workers if w.done()) == ["a", "b"]
    (idle,) = [w for w in workers if not w.done()]
    q.add("c")
    async with asyncio.timeout(1):
        assert await idle == "c"


async def test_a_worker_cancelled_as_it_is_woken_passes_the_key_on() -> None:
    q: WorkQueue[str] = WorkQueue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("a")  # wakes the first worker...
    first.cancel()  # ...which is cancelled before it takes the key
    async with asyncio.timeout(1):
        assert await second == "a"
