"""Crash and image-pull back-off: 10 s doubling to 5 min, measured from the failure."""

from __future__ import annotations

from kubelet.container.backoff import Backoff


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_first_failure_has_no_back_off_then_it_doubles_up_to_the_cap() -> None:
    clock = Clock()
    b = Backoff(clock=clock)
    assert b.remaining("c", clock.now) == 0
    durations = []
    for _ in range(8):
        b.next("c", clock.now)
        durations.append(b.duration("c"))
    assert durations == [10, 20, 40, 80, 160, 300, 300, 300]


def test_remaining_counts_from_the_failure_time() -> None:
    clock = Clock()
    b = Backoff(clock=clock)
    b.next("c", clock.now)
    clock.now += 4
    assert b.remaining("c", clock.now - 4) == 6
    clock.now += 7
    assert b.remaining("c", clock.now - 11) == 0


def test_a_long_quiet_time_starts_over() -> None:
    clock = Clock()
    b = Backoff(clock=clock)
    for _ in range(4):
        b.next("c", clock.now)
    clock.now += 601
    b.next("c", clock.now)
    assert b.duration("c") == 10


def test_forget_by_prefix() -> None:
    b = Backoff()
    b.next("uid-1/a")
    b.next("uid-2/a")
    b.forget("uid-1")
    assert b.duration("uid-1/a") == 0 and b.duration("uid-2/a") == 10
