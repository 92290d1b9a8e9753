"""The sync runner's limits: a burst at once, then one run per min interval with requests folded
together, never two runs at a time, a run after max interval when nobody asks, retries.

The tests wait for the runs they expect, then compare the times recorded: that a run came no
sooner than its interval holds whatever the host's load (a wait never ends early); that one came
at once is an interval long enough that a busy host's pauses stay well within it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from proxy.sync_runner import BoundedFrequencyRunner
from tests.unit.waiting import until


class Recorder:
    def __init__(self, duration: float = 0.0) -> None:
        self.starts: list[float] = []
        self.running = 0
        self.overlapped = False
        self.duration = duration
        self.t0 = time.monotonic()

    async def __call__(self) -> None:
        self.starts.append(time.monotonic() - self.t0)
        self.running += 1
        self.overlapped |= self.running > 1
        await asyncio.sleep(self.duration)
        self.running -= 1


Start = Callable[..., BoundedFrequencyRunner]


@pytest_asyncio.fixture
async def start() -> AsyncIterator[Start]:
    tasks: list[asyncio.Task[None]] = []

    def start_runner(
        fn: Recorder, min_interval: float, max_interval: float = 60.0, burst: int = 2
    ) -> BoundedFrequencyRunner:
        runner = BoundedFrequencyRunner("test", fn, min_interval, max_interval, burst)
        tasks.append(asyncio.create_task(runner.loop()))
        return runner

    yield start_runner
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_burst_runs_at_once_then_one_per_min_interval(start: Start) -> None:
    interval = 1.0
    calls = Recorder()
    runner = start(calls, min_interval=interval)
    asked = time.monotonic() - calls.t0
    runner.run()
    await until(lambda: len(calls.starts) == 1, "the first run")
    runner.run()
    await until(lambda: len(calls.starts) == 2, "the burst's second run")
    # The burst: the second did not wait for the bucket to refill.
    assert calls.starts[1] - calls.starts[0] < interval, calls.starts
    for _ in range(3):
        runner.run()
        await asyncio.sleep(0)
    await until(lambda: len(calls.starts) == 3, "a run for the other three requests")
    # The other three requests were folded into one run, a min interval after the first run
    # (which came after the first request).
    assert calls.starts[2] - asked >= interval, (asked, calls.starts)
    await asyncio.sleep(interval + 0.2)
    assert len(calls.starts) == 3  # nobody asked again


async def test_requests_during_a_run_make_one_more_run_after_it(start: Start) -> None:
    calls = Recorder(duration=0.3)
    runner = start(calls, min_interval=0.0)
    runner.run()
    await until(lambda: calls.running == 1, "the first run under way")
    for _ in range(3):
        runner.run()
    await until(lambda: len(calls.starts) == 2, "a run after it")
    await until(lambda: calls.running == 0, "that run's end")
    await asyncio.sleep(0.1)
    assert len(calls.starts) == 2  # the three requests were one more run
    assert not calls.overlapped
    assert calls.starts[1] >= 0.3


async def test_max_interval_runs_without_requests(start: Start) -> None:
    calls = Recorder()
    start(calls, min_interval=0.0, max_interval=0.2)
    await until(lambda: len(calls.starts) >= 3, "three runs")
    # Each a max interval after the last (the first after the runner's start): never sooner.
    assert all(at >= 0.2 * (i + 1) for i, at in enumerate(calls.starts)), calls.starts


async def test_retry_after_runs_once_after_the_interval(start: Start) -> None:
    calls = Recorder()
    runner = start(calls, min_interval=0.0)
    runner.retry_after(0.3)
    await asyncio.sleep(0.15)
    assert calls.starts == []
    await until(lambda: calls.starts, "the retry")
    assert calls.starts[0] >= 0.29
    await asyncio.sleep(0.3)
    assert len(calls.starts) == 1


async def test_a_failing_run_does_not_stop_the_loop(start: Start) -> None:
    runs = 0

    async def failing() -> None:
        nonlocal runs
        runs += 1
        raise RuntimeError("boom")

    runner = BoundedFrequencyRunner("test", failing, 0.0, 60.0)
    task = asyncio.create_task(runner.loop())
    try:
        runner.run()
        await until(lambda: runs == 1, "the first run")
        runner.run()
        await until(lambda: runs == 2, "a second run after the first failed")
    finally:
        task.cancel()


def test_bad_limits_are_refused() -> None:
    async def nothing() -> None:
        return None

    with pytest.raises(ValueError, match="burst"):
        BoundedFrequencyRunner("test", nothing, 1.0, 10.0, burst=0)


async def test_a_cancel_that_comes_as_a_run_is_asked_for_stops_the_loop() -> None:
    """kube-proxy stops its runner by cancelling it. A cancel in the same turn of the event loop
    as the wake-up it waits for must not be lost (Python 3.11's asyncio.wait_for lost it: the
    loop ran on, and the proxy's shutdown waited for ever)."""
    runner = BoundedFrequencyRunner("test", Recorder(), min_interval=0, max_interval=60)
    task = asyncio.create_task(runner.loop())
    await asyncio.sleep(0.05)  # waiting for a request
    runner.run()
    await asyncio.sleep(0)  # the wake-up is under way
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done, "the runner loops on after its cancel"
    assert task.cancelled()
