"""RFC 3339 timestamps, as Kubernetes writes them in the API."""
from __future__ import annotations

from datetime import datetime, timezone


def now() -> str:
    """The current time in UTC with second precision, e.g. 2026-11-21T15:04:05Z."""
    return format_time(datetime.now(timezone.utc))


def now_micro() -> str:
    """The current time with microseconds (Kubernetes' MicroTime, used by leases and events)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_time(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(value: str) -> datetime | None:
    """Parses an RFC 3339 timestamp; None for an empty or unparsable value."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_age(value: str, at: datetime | None = None) -> str:
    """kubectl's AGE column: 5s, 3m, 2m10s, 4h, 3d."""
    t = parse(value)
    if t is None:
        return "<unknown>"
    seconds = int(((at or datetime.now(timezone.utc)) - t).total_seconds())
    seconds = max(seconds, 0)
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"
