"""bench.common.host_speed: the CPU-speed probe sampled beside a load test, and how a run reports
it."""

from __future__ import annotations

import fcntl
import struct
import subprocess
import termios
import time

from bench.common import host_speed
from bench.scheduler.summary import summary_line
from tests.unit.bench.scheduler_results import scheduler_result
from tests.unit.waiting import TIMEOUT


def test_the_summary_gives_the_median_and_the_range_of_the_probes() -> None:
    assert host_speed.summary([30.0, 45.0, 28.0, 29.0]) == {
        "probe": host_speed.PROBE,
        "samples": 4,
        "p50_ms": 29.5,
        "min_ms": 28.0,
        "max_ms": 45.0,
    }
    assert host_speed.summary([]) == {"probe": host_speed.PROBE, "samples": 0}


def output_waiting(child: subprocess.Popen[str]) -> int:
    """How many bytes of the child's output wait in the pipe, unread."""
    assert child.stdout is not None
    counted = fcntl.ioctl(child.stdout.fileno(), termios.FIONREAD, b"\0" * 4)
    return int(struct.unpack("i", counted)[0])


def test_the_sampler_probes_in_a_child_process_until_stopped() -> None:
    speed = host_speed.HostSpeed(interval=0.05)
    speed.start()
    child = speed._process
    assert child is not None
    # Two probes printed: each line (one write: "%.3f" of a probe's milliseconds and a newline)
    # is at most 11 bytes, so 12 waiting are two lines at least.
    deadline = time.monotonic() + TIMEOUT
    while output_waiting(child) < 12:
        assert time.monotonic() < deadline, "timed out waiting for two probes"
        time.sleep(0.01)
    probes = speed.stop()
    assert child.poll() is not None  # the child is gone
    assert len(probes) >= 2
    assert all(p > 0 for p in probes)
    assert speed.stop() == []  # a second stop has nothing to give


def test_a_run_summary_names_the_host_speed_it_ran_at() -> None:
    result = scheduler_result(host_speed_while_scheduling=host_speed.summary([28.2, 41.0, 30.1]))
    result["host"]["probe_before_ms"] = 27.6
    line = summary_line(result)
    assert "412 pods/s average" in line
    assert "CPU apiserver 77%; host probe 30 ms (28-41), 28 ms before; load average" in line


def test_a_run_without_probes_says_nothing_of_them() -> None:
    assert "probe" not in summary_line(scheduler_result())
