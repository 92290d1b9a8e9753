"""A named work queue reports client-go's workqueue_* metrics; an unnamed one reports nothing."""

from __future__ import annotations

import asyncio
import uuid

from prometheus_client import REGISTRY

from podplane.client.workqueue import WorkQueue


def value(metric: str, name: str) -> float | None:
    return REGISTRY.get_sample_value(metric, {"name": name})


def new_queue(**kwargs: float) -> tuple[WorkQueue[str], str]:
    name = "test_" + uuid.uuid4().hex[:8]
    return WorkQueue(name=name, **kwargs), name


async def test_depth_follows_adds_and_gets_and_duplicates_are_not_adds() -> None:
    q, name = new_queue()
    for key in ("a", "b", "a"):
        q.add(key)
    assert value("workqueue_adds_total", name) == 2
    assert value("workqueue_depth", name) == 2
    await q.get()
    assert value("workqueue_depth", name) == 1
    assert value("workqueue_queue_duration_seconds_count", name) == 1


async def test_work_duration_is_observed_on_done() -> None:
    q, name = new_queue()
    q.add("a")
    key = await q.get()
    assert value("workqueue_work_duration_seconds_count", name) == 0
    await asyncio.sleep(0.02)
    assert (value("workqueue_unfinished_work_seconds", name) or 0) >= 0.02
    assert (value("workqueue_longest_running_processor_seconds", name) or 0) >= 0.02
    q.done(key)
    assert value("workqueue_work_duration_seconds_count", name) == 1
    assert (value("workqueue_work_duration_seconds_sum", name) or 0) >= 0.02
    assert value("workqueue_unfinished_work_seconds", name) == 0


async def test_a_key_readded_while_processing_is_counted_once_more_in_depth() -> None:
    q, name = new_queue()
    q.add("a")
    key = await q.get()
    q.add("a")  # changed while being processed: queued again after done()
    assert value("workqueue_adds_total", name) == 2
    assert value("workqueue_depth", name) == 1
    q.done(key)
    assert await q.get() == "a"
    assert value("workqueue_depth", name) == 0
    assert value("workqueue_queue_duration_seconds_count", name) == 2


async def test_rate_limited_adds_are_retries() -> None:
    q, name = new_queue(base_delay=0.001)
    q.add_rate_limited("a")
    q.add_rate_limited("a")
    assert value("workqueue_retries_total", name) == 2
    await asyncio.sleep(0.05)  # both back-offs over: the second add found the key still queued
    assert value("workqueue_adds_total", name) == 1
    assert await q.get() == "a"


def all_adds() -> float:
    return sum(s.value for m in REGISTRY.collect() if m.name == "workqueue_adds" for s in m.samples)


async def test_an_unnamed_queue_reports_nothing() -> None:
    named, _ = new_queue()
    named.add("a")
    before = all_adds()
    assert before >= 1
    q: WorkQueue[str] = WorkQueue()
    q.add("a")
    q.done(await q.get())
    assert all_adds() == before
