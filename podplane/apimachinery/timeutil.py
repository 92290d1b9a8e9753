"""RFC 3339 timestamps, as Kubernetes writes them in the API."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

# The last second formatted, and its text without the "Z": a busy apiserver stamps thousands of
# objects and managed-fields entries a second, a scheduler its events, and formatting one took a
# few microseconds each time.
_stamp: tuple[int, str] = (-1, "")


def _second(second: int) -> str:
    """2026-11-21T15:04:05 for that second since the epoch (formatted once a second)."""
    global _stamp
    stamp = _stamp
    if stamp[0] != second:
        text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        stamp = _stamp = (second, text)
    return stamp[1]


def now() -> str:
    """The current time in UTC with second precision, e.g. 2026-11-21T15:04:05Z."""
    return _second(int(time.time())) + "Z"


def now_micro() -> str:
    """The current time with microseconds (Kubernetes' MicroTime, used by leases and events)."""
    return micro_time(time.time())


def micro_time(seconds: float) -> str:
    """A time in seconds since the epoch as a MicroTime, e.g. 2026-11-21T15:04:05.000123Z,
    rounded to the microsecond as datetime.fromtimestamp rounds it."""
    frac, whole = math.modf(seconds)
    micro = round(frac * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    elif micro < 0:
        whole, micro = whole - 1, micro + 1_000_000
    return f"{_second(int(whole))}.{micro:06d}Z"


def format_time(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(value: str) -> datetime | None:
    """Parses an RFC 3339 timestamp; None for an empty or unparsable value."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_age(value: str, at: datetime | None = None) -> str:
    """kubectl's AGE column (apimachinery duration.HumanDuration): 90s, 5m3s, 45m, 4h5m, 20h,
    3d4h, 30d, 2y10d."""
    t = parse(value)
    if t is None:
        return "<unknown>"
    return human_duration(int(((at or datetime.now(UTC)) - t).total_seconds()))


def human_duration(seconds: int) -> str:
    """duration.HumanDuration of a number of seconds: 90s, 5m3s, ..., 2y10d."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"
