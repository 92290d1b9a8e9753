"""How fast this host's CPU is running: a fixed piece of pure-Python work timed in CPU time
(`time.process_time`), so waiting for a core does not count, sampled by a process of its own while
a benchmark runs. On the shared 2-core VM this project is measured on, the same work takes up to
1.7 times as long from one minute to the next, and every component of a run slows with it. The
samples tell a run on a slow host from a slow run.

`python -m bench.common.host_speed INTERVAL` prints one probe, in milliseconds, every INTERVAL
seconds."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import NotRequired, TypedDict

PROBE_ITERATIONS = 300_000
PROBE = f"a {PROBE_ITERATIONS:,}-iteration Python loop, CPU milliseconds"


def probe_ms() -> float:
    """The CPU time the fixed work takes now, in milliseconds."""
    start = time.process_time()
    total = 0
    for i in range(PROBE_ITERATIONS):
        total += i * i
    return (time.process_time() - start) * 1000.0


class Summary(TypedDict):
    """A run's probes, as its JSON result gives them; the figures only when there were probes."""

    probe: str
    samples: int
    p50_ms: NotRequired[float]
    min_ms: NotRequired[float]
    max_ms: NotRequired[float]


def summary(samples: list[float]) -> Summary:
    """The probes of a run: how many, median, fastest and slowest."""
    if not samples:
        return {"probe": PROBE, "samples": 0}
    return {
        "probe": PROBE,
        "samples": len(samples),
        "p50_ms": statistics.median(samples),
        "min_ms": min(samples),
        "max_ms": max(samples),
    }


class HostSpeed:
    """Probes every `interval` seconds in a child process, from start() until stop()."""

    def __init__(self, interval: float = 2.0) -> None:
        self.interval = interval
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.common.host_speed", str(self.interval)],
            stdout=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> list[float]:
        """Ends the sampling; the probes taken, in order."""
        if self._process is None:
            return []
        process, self._process = self._process, None
        process.terminate()
        out, _ = process.communicate(timeout=10)
        lines = out.split("\n")[:-1]  # a line cut short by the signal has no newline
        return [float(line) for line in lines]


def main(argv: list[str]) -> None:
    interval = float(argv[0]) if argv else 2.0
    try:
        while True:
            print(f"{probe_ms():.3f}", flush=True)
            time.sleep(interval)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
