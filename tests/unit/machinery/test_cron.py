"""The cron schedules Kubernetes accepts (robfig/cron v3's standard parser, its error messages)
and when they fire next, in UTC and in time zones across daylight saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from podplane.apimachinery.cron import CronError, UnknownTimeZone, load_location, parse_standard
from podplane.apimachinery.cron.duration import DurationError, parse_duration

NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2024, 1, 1, 10, 0, 30, tzinfo=UTC)  # a Monday


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    "spec,after,expected",
    [
        ("*/1 * * * *", T0, utc(2024, 1, 1, 10, 1)),
        ("* * * * *", utc(2024, 1, 1, 10, 0), utc(2024, 1, 1, 10, 1)),  # strictly after
        ("*/15 * * * *", T0, utc(2024, 1, 1, 10, 15)),
        ("5 4 * * *", T0, utc(2024, 1, 2, 4, 5)),
        ("0 0 29 2 *", T0, utc(2024, 2, 29)),  # a leap day
        ("0 0 29 2 *", utc(2024, 3, 1), utc(2028, 2, 29)),
        ("0 12 * * mon-fri", utc(2024, 1, 5, 13), utc(2024, 1, 8, 12)),  # Friday afternoon
        ("0 0 1 jan,JUL *", T0, utc(2024, 7, 1)),
        ("0 0 13 * 5", T0, utc(2024, 1, 5)),  # day of month OR day of week when both set
        ("0 0 13 * *", T0, utc(2024, 1, 13)),
        ("0 0 * * 5", T0, utc(2024, 1, 5)),
        ("0 0 ? * 0", T0, utc(2024, 1, 7)),
        ("10-20/5 * * * *", T0, utc(2024, 1, 1, 10, 10)),
        ("50/5 9 * * *", utc(2024, 1, 1, 9, 56), utc(2024, 1, 2, 9, 50)),  # "N/step": N-max
        ("@hourly", T0, utc(2024, 1, 1, 11)),
        ("@daily", T0, utc(2024, 1, 2)),
        ("@midnight", T0, utc(2024, 1, 2)),
        ("@weekly", T0, utc(2024, 1, 7)),  # Sundays
        ("@monthly", T0, utc(2024, 2, 1)),
        ("@yearly", T0, utc(2025, 1, 1)),
        ("@annually", T0, utc(2025, 1, 1)),
        ("@every 1h30m", T0, utc(2024, 1, 1, 11, 30, 30)),
        ("@every 90s", T0, utc(2024, 1, 1, 10, 2)),
        ("@every 100ms", T0, utc(2024, 1, 1, 10, 0, 31)),  # at least a second
        ("0 0 31 2 *", T0, None),  # never: nothing within five years
        ("TZ=Europe/Paris 0 9 * * *", T0, utc(2024, 1, 2, 8)),
        ("CRON_TZ=Asia/Tokyo 0 9 * * *", T0, utc(2024, 1, 2, 0)),
    ],
)
def test_next_time(spec: str, after: datetime, expected: datetime | None) -> None:
    assert parse_standard(spec).next(after) == expected


def test_a_schedule_without_a_zone_is_in_the_zone_of_the_time_asked_about() -> None:
    local = datetime(2024, 1, 1, 10, 0, tzinfo=NEW_YORK)
    assert parse_standard("0 12 * * *").next(local) == datetime(2024, 1, 1, 12, tzinfo=NEW_YORK)


def in_new_york(spec: str, after: datetime) -> datetime:
    fired = parse_standard(f"TZ=America/New_York {spec}").next(after)
    assert fired is not None
    return fired.astimezone(NEW_YORK)


def test_daylight_saving_starts_the_skipped_hour_does_not_fire() -> None:
    # 2024-03-10 02:00 EST became 03:00 EDT: 02:30 does not exist that day.
    fired = in_new_york("30 2 * * *", datetime(2024, 3, 9, 12, tzinfo=UTC))
    assert fired.replace(tzinfo=None) == datetime(2024, 3, 11, 2, 30)
    assert fired.utcoffset() == timedelta(hours=-4)
    # Hours after the change fire at their wall-clock time, in the new offset.
    nine = in_new_york("0 9 * * *", datetime(2024, 3, 9, 15, tzinfo=UTC))
    assert nine.astimezone(UTC) == utc(2024, 3, 10, 13)


def test_daylight_saving_ends_the_repeated_hour_fires_twice() -> None:
    # 2024-11-03 02:00 EDT became 01:00 EST: 01:30 happens twice, an hour apart.
    first = in_new_york("30 1 * * *", datetime(2024, 11, 3, 4, tzinfo=UTC))
    second = in_new_york("30 1 * * *", first)
    assert first.astimezone(UTC) == utc(2024, 11, 3, 5, 30)
    assert second.astimezone(UTC) == utc(2024, 11, 3, 6, 30)
    third = in_new_york("30 1 * * *", second)
    assert third.astimezone(UTC) == utc(2024, 11, 4, 6, 30)


def test_every_hour_across_a_change_is_every_real_hour() -> None:
    schedule = parse_standard("TZ=America/New_York 0 * * * *")
    t: datetime | None = datetime(2024, 3, 10, 6, 30, tzinfo=UTC)  # 01:30 EST
    fired = []
    for _ in range(3):
        assert t is not None
        t = schedule.next(t)
        fired.append(t)
    # 02:00 EST never happened: 07:00 UTC is 03:00 EDT.
    assert fired == [utc(2024, 3, 10, 7), utc(2024, 3, 10, 8), utc(2024, 3, 10, 9)]


@pytest.mark.parametrize(
    "spec,message",
    [
        ("", "empty spec string"),
        ("hello", "expected exactly 5 fields, found 1: [hello]"),
        ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("* 24 * * *", "end of range (24) above maximum (23): 24"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("* * * 13 *", "end of range (13) above maximum (12): 13"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("*/2/3 * * * *", "too many slashes: */2/3"),
        ("a * * * *", 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'),
        (
            "* * * foo *",
            'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax',
        ),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        (
            "@every 1d",
            'failed to parse duration @every 1d: time: unknown unit "d" in duration "1d"',
        ),
        ("@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'),
        (
            "TZ=Mars/Olympus * * * * *",
            "provided bad location Mars/Olympus: unknown time zone Mars/Olympus",
        ),
    ],
)
def test_refused_schedules_say_why_as_robfig_cron_does(spec: str, message: str) -> None:
    with pytest.raises(CronError) as e:
        parse_standard(spec)
    assert str(e.value) == message


@pytest.mark.parametrize(
    "text,nanoseconds",
    [
        ("1h30m", 5400 * 10**9),
        ("1.5h", 5400 * 10**9),
        ("300ms", 300 * 10**6),
        ("-2s", -2 * 10**9),
        ("0", 0),
        ("2h45m10.5s", (2 * 3600 + 45 * 60 + 10) * 10**9 + 5 * 10**8),
        ("1\u00b5s", 1000),
    ],
)
def test_go_durations(text: str, nanoseconds: int) -> None:
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize(
    "text,message",
    [
        ("", 'time: invalid duration ""'),
        ("x", 'time: invalid duration "x"'),
        (".s", 'time: invalid duration ".s"'),
        ("9999999999h", 'time: invalid duration "9999999999h"'),
    ],
)
def test_bad_go_durations(text: str, message: str) -> None:
    with pytest.raises(DurationError) as e:
        parse_duration(text)
    assert str(e.value) == message


def test_time_zones_by_iana_name() -> None:
    assert load_location("") is UTC and load_location("UTC") is UTC
    assert str(load_location("Europe/Paris")) == "Europe/Paris"
    for name in ("Mars/Olympus", "../etc/passwd", "/etc/localtime", "America", "europe/paris"):
        with pytest.raises(UnknownTimeZone) as e:
            load_location(name)
        assert str(e.value) == f"unknown time zone {name}"
