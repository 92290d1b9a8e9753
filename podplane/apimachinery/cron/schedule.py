"""When a parsed schedule fires next (robfig/cron v3 SpecSchedule.Next and ConstantDelaySchedule).

Times are whole seconds since the epoch; a field is matched against the wall clock of the
schedule's time zone. As robfig/cron does: months and days advance on the wall clock (Go's
AddDate), hours, minutes and seconds in absolute time, so on a spring-forward day a time in the
skipped hour does not fire and on a fall-back day a time in the repeated hour fires twice; a
schedule that matches nothing within five years has no next time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from podplane.apimachinery.cron.duration import SECOND

STAR_BIT = 1 << 63
_EPOCH = datetime(1970, 1, 1)


class Schedule(Protocol):
    def next(self, t: datetime) -> datetime | None:
        """The first time strictly after `t` that the schedule fires, in `t`'s time zone."""
        ...


def _offset(instant: int, zone: tzinfo) -> int:
    offset = datetime.fromtimestamp(instant, zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def go_date(
    year: int, month: int, day: int, hour: int, minute: int, second: int, zone: tzinfo
) -> int:
    """time.Date: the instant of a wall-clock time, out-of-range fields carried over (month 13
    is January of the next year, day 32 the 1st of the next month); a time in a gap or an
    overlap of the zone gets Go's offset."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    wall = datetime(year, month, 1) + timedelta(
        days=day - 1, hours=hour, minutes=minute, seconds=second
    )
    unix = (wall - _EPOCH) // timedelta(seconds=1)
    offset = _offset(unix, zone)
    if _offset(unix - offset, zone) != offset:
        offset = _offset(unix - offset, zone)
    return unix - offset


@dataclass(frozen=True)
class SpecSchedule:
    """A five-field schedule: one bit per allowed value, STAR_BIT when a field was `*` or `?`
    (which changes how day of month and day of week combine)."""

    second: int
    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    # None: the time zone of the time asked about (Go's time.Local).
    location: tzinfo | None = None

    def _day_matches(self, wall: datetime) -> bool:
        dom_match = bool(1 << wall.day & self.dom)
        dow_match = bool(1 << (wall.isoweekday() % 7) & self.dow)
        if self.dom & STAR_BIT or self.dow & STAR_BIT:
            return dom_match and dow_match
        return dom_match or dow_match

    def next(self, t: datetime) -> datetime | None:
        original = t.tzinfo or UTC
        zone = self.location or original
        found = self._next(math.floor(t.timestamp()) + 1, zone)
        return None if found is None else datetime.fromtimestamp(found, original)

    def _next(self, u: int, zone: tzinfo) -> int | None:
        def wall(instant: int) -> datetime:
            return datetime.fromtimestamp(instant, zone)

        added = False
        year_limit = wall(u).year + 5
        while True:  # WRAP
            w = wall(u)
            if w.year > year_limit:
                return None
            wrapped = False
            while not 1 << w.month & self.month:
                if not added:
                    added = True
                    u = go_date(w.year, w.month, 1, 0, 0, 0, zone)
                    w = wall(u)
                u = go_date(w.year, w.month + 1, w.day, w.hour, w.minute, w.second, zone)
                w = wall(u)
                if w.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not self._day_matches(w):
                if not added:
                    added = True
                    u = go_date(w.year, w.month, w.day, 0, 0, 0, zone)
                    w = wall(u)
                u = go_date(w.year, w.month, w.day + 1, w.hour, w.minute, w.second, zone)
                w = wall(u)
                # A midnight that a DST change moved: back onto the day's first hour.
                if w.hour != 0:
                    u += (24 - w.hour) * 3600 if w.hour > 12 else -w.hour * 3600
                    w = wall(u)
                if w.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not 1 << w.hour & self.hour:
                if not added:
                    added = True
                    u = go_date(w.year, w.month, w.day, w.hour, 0, 0, zone)
                u += 3600
                w = wall(u)
                if w.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not 1 << w.minute & self.minute:
                if not added:
                    added = True
                    u -= u % 60
                u += 60
                w = wall(u)
                if w.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            while not 1 << w.second & self.second:
                added = True
                u += 1
                w = wall(u)
                if w.second == 0:
                    wrapped = True
                    break
            if wrapped:
                continue
            return u


@dataclass(frozen=True)
class ConstantDelaySchedule:
    """@every <duration>: fires every `delay_seconds` (whole seconds, at least one)."""

    delay_seconds: int

    @staticmethod
    def every(nanoseconds: int) -> ConstantDelaySchedule:
        return ConstantDelaySchedule(max(nanoseconds, SECOND) // SECOND)

    def next(self, t: datetime) -> datetime | None:
        # Absolute time: `t` plus the delay, its fraction of a second dropped.
        return datetime.fromtimestamp(
            math.floor(t.timestamp()) + self.delay_seconds, t.tzinfo or UTC
        )
