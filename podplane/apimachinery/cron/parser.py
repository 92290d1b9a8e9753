"""robfig/cron v3's standard parser (cron.ParseStandard, which Kubernetes validates CronJob
schedules with): minute, hour, day of month, month and day of week; `*`, `?`, ranges `a-b`,
steps `/n`, lists `a,b`, month and weekday names; the descriptors @yearly (@annually), @monthly,
@weekly, @daily (@midnight), @hourly and `@every <duration>`; a leading `TZ=<zone>` or
`CRON_TZ=<zone>`. Errors are robfig's messages, which Kubernetes returns as they are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import tzinfo

from podplane.apimachinery.cron.duration import DurationError, parse_duration
from podplane.apimachinery.cron.schedule import (
    STAR_BIT,
    ConstantDelaySchedule,
    Schedule,
    SpecSchedule,
)
from podplane.apimachinery.cron.zones import UnknownTimeZone, load_location

_INT64_MAX = (1 << 63) - 1
_DECIMAL = re.compile(r"^[+-]?[0-9]+$")


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int] | None = None


SECONDS = _Bounds(0, 59)
MINUTES = _Bounds(0, 59)
HOURS = _Bounds(0, 23)
DOM = _Bounds(1, 31)
MONTHS = _Bounds(
    1,
    12,
    {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())},
)
DOW = _Bounds(0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())})


def _bits(low: int, high: int, step: int) -> int:
    if step == 1:
        return ((1 << (high + 1)) - 1) & ~((1 << low) - 1)
    return sum(1 << i for i in range(low, high + 1, step))


def _all(bounds: _Bounds) -> int:
    return _bits(bounds.low, bounds.high, 1) | STAR_BIT


def _atoi(text: str) -> int:
    """strconv.Atoi, with its errors."""
    if not _DECIMAL.match(text):
        raise CronError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    value = int(text)
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise CronError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": value out of range'
        )
    return value


def _must_parse_int(text: str) -> int:
    value = _atoi(text)
    if value < 0:
        raise CronError(f"negative number ({value}) not allowed: {text}")
    return value


def _int_or_name(text: str, names: dict[str, int] | None) -> int:
    if names is not None and text.lower() in names:
        return names[text.lower()]
    return _must_parse_int(text)


def _range(expr: str, bounds: _Bounds) -> int:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    extra = 0
    if low_and_high[0] in ("*", "?"):
        start, end, extra = bounds.low, bounds.high, STAR_BIT
    else:
        start = _int_or_name(low_and_high[0], bounds.names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], bounds.names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _must_parse_int(range_and_step[1])
        if single:  # "N/step" is "N-max/step"
            end = bounds.high
        if step > 1:
            extra = 0
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < bounds.low:
        raise CronError(f"beginning of range ({start}) below minimum ({bounds.low}): {expr}")
    if end > bounds.high:
        raise CronError(f"end of range ({end}) above maximum ({bounds.high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return _bits(start, end, step) | extra


def _field(text: str, bounds: _Bounds) -> int:
    bits = 0
    for expr in (e for e in text.split(",") if e):  # strings.FieldsFunc drops empty parts
        bits |= _range(expr, bounds)
    return bits


def _descriptor(spec: str, location: tzinfo | None) -> Schedule:
    def at(**fields: int) -> SpecSchedule:
        values = {
            "second": 1 << SECONDS.low,
            "minute": 1 << MINUTES.low,
            "hour": 1 << HOURS.low,
            "dom": 1 << DOM.low,
            "month": 1 << MONTHS.low,
            "dow": _all(DOW),
        }
        values.update(fields)
        return SpecSchedule(location=location, **values)

    if spec in ("@yearly", "@annually"):
        return at()
    if spec == "@monthly":
        return at(month=_all(MONTHS))
    if spec == "@weekly":
        return at(dom=_all(DOM), month=_all(MONTHS), dow=1 << DOW.low)
    if spec in ("@daily", "@midnight"):
        return at(dom=_all(DOM), month=_all(MONTHS))
    if spec == "@hourly":
        return at(hour=_all(HOURS), dom=_all(DOM), month=_all(MONTHS))
    if spec.startswith("@every "):
        try:
            return ConstantDelaySchedule.every(parse_duration(spec[len("@every ") :]))
        except DurationError as e:
            raise CronError(f"failed to parse duration {spec}: {e}") from None
    raise CronError(f"unrecognized descriptor: {spec}")


def parse_standard(spec: str) -> Schedule:
    """The schedule `spec` describes; CronError with robfig's message if it is not one. Without
    TZ=, the schedule is in the time zone of the times it is asked about."""
    if not spec:
        raise CronError("empty spec string")
    location: tzinfo | None = None
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        name = spec[spec.index("=") + 1 : space if space >= 0 else len(spec)]
        try:
            location = load_location(name)
        except UnknownTimeZone as e:
            raise CronError(f"provided bad location {name}: {e}") from None
        spec = spec[space:].strip() if space >= 0 else ""
    if spec.startswith("@"):
        return _descriptor(spec, location)
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    return SpecSchedule(
        second=1 << SECONDS.low,
        minute=_field(fields[0], MINUTES),
        hour=_field(fields[1], HOURS),
        dom=_field(fields[2], DOM),
        month=_field(fields[3], MONTHS),
        dow=_field(fields[4], DOW),
        location=location,
    )
