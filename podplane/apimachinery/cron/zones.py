"""Time zones by IANA name, as Go's time.LoadLocation finds them: "" and "UTC" are UTC, any other
name is looked up in the system's time zone database (the images install Debian's tzdata)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, tzinfo


class UnknownTimeZone(ValueError):
    """time.LoadLocation's error: "unknown time zone <name>"."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown time zone {name}")
        self.name = name


def load_location(name: str) -> tzinfo:
    if name in ("", "UTC"):
        return UTC
    if ".." in name or name.startswith(("/", "\\")):
        raise UnknownTimeZone(name)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # Not in the database, a path outside it, a directory or a file that is not TZif.
        raise UnknownTimeZone(name) from None
