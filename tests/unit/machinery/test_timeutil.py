"""timeutil.now() and micro_time(): the current second in RFC 3339, formatted once a second but
never stale; a MicroTime as datetime writes it."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from podplane.apimachinery import timeutil


def test_now_is_the_current_second_and_follows_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_700_000_000.2]
    monkeypatch.setattr("podplane.apimachinery.timeutil.time.time", lambda: clock[0])
    assert timeutil.now() == "2023-11-14T22:13:20Z"
    clock[0] = 1_700_000_000.9  # the same second
    assert timeutil.now() == "2023-11-14T22:13:20Z"
    clock[0] = 1_700_000_001.0
    assert timeutil.now() == "2023-11-14T22:13:21Z"
    clock[0] = 1_699_999_999.5  # a clock set back is followed too
    assert timeutil.now() == "2023-11-14T22:13:19Z"


def test_micro_time_is_datetimes_to_the_microsecond() -> None:
    """As datetime.fromtimestamp formats it, rounding included (half to even, carried into the
    next second), across second boundaries and with the second's text reused."""
    rng = random.Random(7)
    base = 1_700_000_000
    times = [base + rng.random() * 5 for _ in range(5000)]
    times += [base + 0.9999996, base + 0.9999995, base + 1.0000004, base + 2.5e-7, float(base)]
    times += [base + k / 1e6 for k in range(-3, 3)]
    for t in times:
        want = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert timeutil.micro_time(t) == want, t


def test_now_micro_follows_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_700_000_000.25]
    monkeypatch.setattr("podplane.apimachinery.timeutil.time.time", lambda: clock[0])
    assert timeutil.now_micro() == "2023-11-14T22:13:20.250000Z"
    clock[0] = 1_700_000_001.5
    assert timeutil.now_micro() == "2023-11-14T22:13:21.500000Z"
    assert timeutil.now() == "2023-11-14T22:13:21Z"
