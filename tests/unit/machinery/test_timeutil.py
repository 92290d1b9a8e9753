"""timeutil.now(): the current second in RFC 3339, formatted once a second but never stale."""

from __future__ import annotations

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
