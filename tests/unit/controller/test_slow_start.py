"""Slow-start batches: 1, 2, 4, ... calls at a time; a failing batch stops the rest."""

from __future__ import annotations

import asyncio

import pytest

from controller.framework.slow_start import slow_start_batch


class Recorder:
    """Counts calls, the calls in flight together (one batch), and fails the n-th call."""

    def __init__(self, fail_at: set[int] | None = None) -> None:
        self.calls = 0
        self.in_flight = 0
        self.batches: list[int] = []
        self.fail_at = fail_at or set()

    async def __call__(self) -> None:
        self.calls += 1
        n = self.calls
        self.in_flight += 1
        if self.in_flight == 1:
            self.batches.append(0)
        self.batches[-1] += 1
        await asyncio.sleep(0)
        self.in_flight -= 1
        if n in self.fail_at:
            raise RuntimeError(f"call {n} failed")


@pytest.mark.parametrize(
    ("count", "batches"),
    [
        (0, []),
        (1, [1]),
        (3, [1, 2]),
        (10, [1, 2, 4, 3]),
        (500, [1, 2, 4, 8, 16, 32, 64, 128, 245]),
    ],
)
async def test_batches_double_until_the_count_is_reached(count: int, batches: list[int]) -> None:
    fn = Recorder()
    assert await slow_start_batch(count, fn) == (count, None)
    assert fn.batches == batches


async def test_a_failing_batch_skips_the_rest() -> None:
    fn = Recorder(fail_at={5})  # in the third batch (calls 4 to 7)
    successes, error = await slow_start_batch(100, fn)
    assert fn.batches == [1, 2, 4] and fn.calls == 7
    assert successes == 6
    assert isinstance(error, RuntimeError) and str(error) == "call 5 failed"


async def test_a_larger_first_batch() -> None:
    fn = Recorder()
    assert await slow_start_batch(7, fn, initial_batch_size=3) == (7, None)
    assert fn.batches == [3, 4]
