"""bench.common.processes.cpu_seconds reads a process's CPU time to the nanosecond, the threads
that have exited included: a benchmark's small measured phase must not read as zero."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bench.common.processes import cpu_seconds

SPIN_IN_A_THREAD = """
import sys, threading, time
def spin():
    start = time.thread_time()
    while time.thread_time() - start < 0.003:
        pass
thread = threading.Thread(target=spin)
thread.start()
thread.join()
print("spun", flush=True)
sys.stdin.read()
"""


def test_it_is_this_process_own_cpu_clock_not_a_count_of_10_ms_ticks() -> None:
    before = time.process_time()
    reading = cpu_seconds(os.getpid())
    after = time.process_time()
    assert before <= reading <= after


def test_another_process_reads_with_its_exited_threads_under_a_tick() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SPIN_IN_A_THREAD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "spun\n"
        first = cpu_seconds(child.pid)
        # The exited thread's 3 ms are in it, and the process's reading moves by less than a
        # tick while it sits blocked on its stdin.
        assert first >= 0.003
        assert 0 <= cpu_seconds(child.pid) - first < 0.001
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)


def test_a_process_that_has_exited_is_an_os_error() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    pid = child.pid
    child.wait(10)
    with pytest.raises(OSError):
        cpu_seconds(pid)
