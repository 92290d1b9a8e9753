"""Slow-start batches (kubernetes pkg/controller/replicaset slowStartBatch): call a function
`count` times, in concurrent batches of 1, 2, 4, ... so that a request bound to fail (a quota, an
invalid template) fails once rather than hundreds of times; after a failing batch the rest are
skipped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

# controller.SlowStartInitialBatchSize
INITIAL_BATCH_SIZE = 1


async def slow_start_batch(
    count: int, fn: Callable[[], Awaitable[None]], *, initial_batch_size: int = INITIAL_BATCH_SIZE
) -> tuple[int, Exception | None]:
    """Returns how many calls succeeded and the first error, if a batch had one."""
    remaining, successes = count, 0
    batch = min(remaining, initial_batch_size)
    while batch > 0:
        results = await asyncio.gather(*(fn() for _ in range(batch)), return_exceptions=True)
        errors: list[Exception] = []
        for r in results:
            if isinstance(r, Exception):
                errors.append(r)
            elif isinstance(r, BaseException):
                raise r  # a cancellation: stop at once
        successes += batch - len(errors)
        if errors:
            return successes, errors[0]
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None
