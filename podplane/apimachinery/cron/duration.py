"""Go's time.ParseDuration, for @every: "1h30m", "90s", "1.5h", "300ms", with Go's errors."""

from __future__ import annotations

NANOSECOND = 1
SECOND = 1_000_000_000
_UNITS = {
    "ns": NANOSECOND,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek small letter mu
    "ms": 1_000_000,
    "s": SECOND,
    "m": 60 * SECOND,
    "h": 3600 * SECOND,
}
_MAX = 1 << 63


class DurationError(ValueError):
    pass


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _digits(s: str) -> int:
    i = 0
    while i < len(s) and s[i].isascii() and s[i].isdigit():
        i += 1
    return i


def parse_duration(text: str) -> int:
    """The duration in nanoseconds."""
    invalid = DurationError(f"time: invalid duration {_quote(text)}")
    s = text
    negative = False
    if s and s[0] in "+-":
        negative = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise invalid
    total = 0
    while s:
        if not (s[0] == "." or (s[0].isascii() and s[0].isdigit())):
            raise invalid
        n = _digits(s)
        whole = int(s[:n]) if n else 0
        if whole >= _MAX:
            raise invalid
        s = s[n:]
        fraction, scale, after = 0, 1, False
        if s.startswith("."):
            s = s[1:]
            m = _digits(s)
            after = m > 0
            # Go keeps the digits that fit in an int64 and ignores the rest.
            for digit in s[:m]:
                if fraction <= (_MAX - 1) // 10:
                    fraction, scale = fraction * 10 + int(digit), scale * 10
            s = s[m:]
        if not n and not after:
            raise invalid
        u = 0
        while u < len(s) and s[u] != "." and not (s[u].isascii() and s[u].isdigit()):
            u += 1
        if u == 0:
            raise DurationError(f"time: missing unit in duration {_quote(text)}")
        unit_name, s = s[:u], s[u:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise DurationError(
                f"time: unknown unit {_quote(unit_name)} in duration {_quote(text)}"
            )
        if whole > _MAX // unit:
            raise invalid
        value = whole * unit
        if fraction:
            value += int(float(fraction) * (float(unit) / scale))
            if value > _MAX:
                raise invalid
        total += value
        if total > _MAX:
            raise invalid
    if negative:
        return -total
    if total > _MAX - 1:
        raise invalid
    return total
