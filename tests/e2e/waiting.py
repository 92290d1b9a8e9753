"""Waiting for the compose cluster to come round: `eventually` polls a check (a kubectl call, an
HTTP request) until it gives a truthy value, which it returns; a check that raises (kubectl
failing, a connection refused) is tried again. On timeout the test fails naming what it waited
for and the check's last answer."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# What a check may raise while the cluster is not there yet.
RETRIED = (AssertionError, OSError, subprocess.SubprocessError, KeyError)


def eventually(
    check: Callable[[], T | None], timeout: float, what: str, interval: float = 1.0
) -> T:
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            result = check()
            if result:
                return result
            last = result
        except RETRIED as e:
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last}")
        time.sleep(interval)
