"""Measurement windows shared by the coordinator and its worker processes (wall-clock times, the
one clock all processes on a host agree on), and the CPU each side used inside them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.common.cpu import host_busy_seconds
from bench.common.processes import cpu_seconds


@dataclass(frozen=True)
class Window:
    """Operations started in [start, end) are measured; those before `start` are warm-up."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def contains(self, wall_time: float) -> bool:
        return self.start <= wall_time < self.end


@dataclass(frozen=True)
class Schedule:
    """A run of `warmup` seconds, then the measured window; times are time.time()."""

    begin: float
    warmup: float
    duration: float

    @property
    def window(self) -> Window:
        return Window(self.begin + self.warmup, self.begin + self.warmup + self.duration)

    @property
    def end(self) -> float:
        return self.window.end


# Awaited alongside a measurement: the CPU percentages of the processes under test in its window
# (cpu_percent_in's answer).
CpuObserver = Callable[[Schedule], Awaitable[dict[str, float]]]


async def sleep_until(wall_time: float) -> None:
    delay = wall_time - time.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def own_cpu_in(window: Window) -> float:
    """CPU seconds this process used during `window` (run it as a task before the window opens)."""
    await sleep_until(window.start)
    before = time.process_time()
    await sleep_until(window.end)
    return time.process_time() - before


async def cpu_percent_in(window: Window, pids: dict[str, int]) -> dict[str, float]:
    """For each named process, the CPU it used during `window` as a percentage of one core, and
    under "host" the whole machine's (all cores: up to 100 × CPUs), which shows other load."""

    def sample() -> dict[str, float]:
        return {
            "host": host_busy_seconds(),
            **{name: cpu_seconds(pid) for name, pid in pids.items()},
        }

    await sleep_until(window.start)
    before = sample()
    await sleep_until(window.end)
    after = sample()
    return {name: 100 * (after[name] - before[name]) / window.seconds for name in after}
