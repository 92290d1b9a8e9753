"""The unit tests' wait for a condition: checked every `interval` (running `each` first, such as
delivering a fake apiserver's watch events), failing with `what` after `timeout`. The deadline
only ends a wait that would never succeed, so it is generous: a unit test waits for the
controller or server under test to do its work, which on a host busy with other tests (the
integration tests beside them, a loop under load) takes far longer than alone, and a test that
can fail without a defect is a defect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

TIMEOUT = 30.0


async def until(
    check: Callable[[], object],
    what: str,
    *,
    each: Callable[[], object] | None = None,
    interval: float = 0.005,
    timeout: float = TIMEOUT,
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if each is not None:
            each()
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)
