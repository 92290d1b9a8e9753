"""The CEL functions podplane evaluates: CEL's standard functions (size, conversions, matches,
contains, startsWith, endsWith, timestamp, duration), cel-go's string extensions (charAt,
indexOf, lastIndexOf, join, lowerAscii, upperAscii, replace, split, substring, trim), optional
types, and Kubernetes' lists (isSorted, sum, min, max, indexOf, lastIndexOf), regex (find,
findAll), sets and isURL libraries.

Each function has its overloads' signatures, for the type checker (patterns: a type name,
`list(A)`, `map(K, V)`, `A` a type parameter, `dyn` anything), and one implementation that
dispatches on the values. A function Kubernetes has and this list has not (quantity, ip, cidr,
url accessors, format, timestamp accessors...) is refused when a CRD is created."""

from __future__ import annotations

import itertools
import math
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from podplane.apimachinery.structural.cel.ast import Uint
from podplane.apimachinery.structural.cel.runtime import (
    CelType,
    CelValue,
    EvalError,
    Optional,
    check_int,
    format_duration,
    format_timestamp,
    no_overload,
    parse_duration,
    parse_timestamp,
    regexp,
    type_name,
)
from podplane.apimachinery.structural.cel.values import equal


@dataclass(frozen=True)
class Overload:
    receiver: str | None  # the pattern of the target of a method; None for a global function
    params: tuple[str, ...]
    result: str


def _o(result: str, *params: str, on: str | None = None) -> Overload:
    return Overload(on, params, result)


SIGNATURES: dict[str, list[Overload]] = {
    "size": [_o("int", t) for t in ("string", "bytes", "list(A)", "map(K, V)")]
    + [_o("int", on=t) for t in ("string", "bytes", "list(A)", "map(K, V)")],
    "int": [_o("int", t) for t in ("int", "uint", "double", "string", "timestamp", "duration")],
    "uint": [_o("uint", t) for t in ("int", "uint", "double", "string")],
    "double": [_o("double", t) for t in ("int", "uint", "double", "string")],
    "string": [
        _o("string", t)
        for t in ("int", "uint", "double", "string", "bool", "bytes", "timestamp", "duration")
    ],
    "bytes": [_o("bytes", "string"), _o("bytes", "bytes")],
    "bool": [_o("bool", "bool"), _o("bool", "string")],
    "dyn": [_o("dyn", "A")],
    "type": [_o("type", "A")],
    "timestamp": [_o("timestamp", "string"), _o("timestamp", "timestamp")],
    "duration": [_o("duration", "string"), _o("duration", "duration")],
    "matches": [_o("bool", "string", "string"), _o("bool", "string", on="string")],
    "contains": [_o("bool", "string", on="string")],
    "startsWith": [_o("bool", "string", on="string")],
    "endsWith": [_o("bool", "string", on="string")],
    "lowerAscii": [_o("string", on="string")],
    "upperAscii": [_o("string", on="string")],
    "trim": [_o("string", on="string")],
    "charAt": [_o("string", "int", on="string")],
    "split": [
        _o("list(string)", "string", on="string"),
        _o("list(string)", "string", "int", on="string"),
    ],
    "replace": [
        _o("string", "string", "string", on="string"),
        _o("string", "string", "string", "int", on="string"),
    ],
    "substring": [_o("string", "int", on="string"), _o("string", "int", "int", on="string")],
    "indexOf": [
        _o("int", "string", on="string"),
        _o("int", "string", "int", on="string"),
        _o("int", "A", on="list(A)"),
    ],
    "lastIndexOf": [
        _o("int", "string", on="string"),
        _o("int", "string", "int", on="string"),
        _o("int", "A", on="list(A)"),
    ],
    "join": [_o("string", on="list(string)"), _o("string", "string", on="list(string)")],
    "find": [_o("string", "string", on="string")],
    "findAll": [
        _o("list(string)", "string", on="string"),
        _o("list(string)", "string", "int", on="string"),
    ],
    "isSorted": [_o("bool", on="list(A)")],
    "sum": [_o("A", on="list(A)")],
    "min": [_o("A", on="list(A)")],
    "max": [_o("A", on="list(A)")],
    "isURL": [_o("bool", "string")],
    "sets.contains": [_o("bool", "list(A)", "list(A)")],
    "sets.equivalent": [_o("bool", "list(A)", "list(A)")],
    "sets.intersects": [_o("bool", "list(A)", "list(A)")],
    "optional.of": [_o("optional(A)", "A")],
    "optional.ofNonZeroValue": [_o("optional(A)", "A")],
    "optional.none": [_o("optional(dyn)")],
    "hasValue": [_o("bool", on="optional(A)")],
    "value": [_o("A", on="optional(A)")],
    "orValue": [_o("A", "A", on="optional(A)")],
    "or": [_o("optional(A)", "optional(A)", on="optional(A)")],
}  # fmt: skip

# Kubernetes' functions that podplane does not evaluate: a rule using one is refused.
NOT_SUPPORTED = {
    "quantity", "isQuantity", "ip", "isIP", "cidr", "isCIDR", "url", "format", "quote",
    "reverse", "getScheme", "getHost", "getHostname", "getPort", "getEscapedPath", "getQuery",
    "getFullYear", "getMonth", "getDayOfMonth", "getDayOfYear", "getDayOfWeek", "getDate",
    "getHours", "getMinutes", "getSeconds", "getMilliseconds", "authorizer", "compareTo",
    "isGreaterThan", "isLessThan", "asInteger", "asApproximateFloat", "sign", "isInteger",
    "add", "sub", "slice", "flatten", "distinct", "sort", "sortBy", "range", "lists.range",
}  # fmt: skip


# Go's unicode.IsSpace, which strings.TrimSpace trims.
_UNICODE_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
_UNICODE_SPACE += "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


# ------------------------------------------------------------------ implementations
def _size(x: CelValue) -> int:
    if isinstance(x, bytes | str | list | dict):
        return len(x)
    raise no_overload("size", x)


def _int(x: CelValue) -> int:
    if isinstance(x, bool):
        raise no_overload("int", x)
    if isinstance(x, int):
        return x
    if isinstance(x, Uint):
        return check_int(x.value)
    if isinstance(x, float):
        if not math.isfinite(x) or not -(2.0**63) <= x < 2.0**63:
            raise EvalError("double is out of range for int")
        return int(x)
    if isinstance(x, str):
        try:
            return check_int(int(x, 10))
        except ValueError as e:
            raise EvalError(f'strconv.ParseInt: parsing "{x}": invalid syntax') from e
    if isinstance(x, datetime):
        return int(x.timestamp())
    if isinstance(x, timedelta):
        return int(x.total_seconds() * 1e9)
    raise no_overload("int", x)


def _double(x: CelValue) -> float:
    if isinstance(x, bool):
        raise no_overload("double", x)
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, Uint):
        return float(x.value)
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError as e:
            raise EvalError(f'strconv.ParseFloat: parsing "{x}": invalid syntax') from e
    raise no_overload("double", x)


def _string(x: CelValue) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return x
    if isinstance(x, int):
        return str(x)
    if isinstance(x, Uint):
        return str(x.value)
    if isinstance(x, float):
        from podplane.apimachinery.structural.field import go_float

        return go_float(x)
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    if isinstance(x, datetime):
        return format_timestamp(x)
    if isinstance(x, timedelta):
        return format_duration(x)
    raise no_overload("string", x)


def _find_all(s: str, pattern: str, limit: int = -1) -> list[str]:
    found = [m.group(0) for m in regexp(pattern).finditer(s)]
    return found if limit < 0 else found[:limit]


def _index_of(s: CelValue, sub: CelValue, start: int = 0) -> int:
    if isinstance(s, list):
        return next((i for i, x in enumerate(s) if equal(x, sub)), -1)
    if not 0 <= start <= len(s):
        raise EvalError(f"index out of range: {start}")
    return int(s.find(sub, start))


def _last_index_of(s: CelValue, sub: CelValue, end: int | None = None) -> int:
    if isinstance(s, list):
        return next((i for i in range(len(s) - 1, -1, -1) if equal(s[i], sub)), -1)
    if end is not None and not 0 <= end < len(s):
        raise EvalError(f"index out of range: {end}")
    return int(s.rfind(sub, 0, None if end is None else end + len(sub)))


def _substring(s: str, start: int, end: int | None = None) -> str:
    end = len(s) if end is None else end
    if not 0 <= start <= len(s) or not start <= end <= len(s):
        raise EvalError(f"index out of range: {end if start <= end else start}")
    return s[start:end]


def _split(s: str, sep: str, limit: int = -1) -> list[str]:
    if limit == 0:
        return []
    if sep == "":
        chars = list(s)
        return chars if limit < 0 else [*chars[: limit - 1], "".join(chars[limit - 1 :])]
    return s.split(sep, limit - 1 if limit > 0 else -1)


def _replace(s: str, old: str, new: str, limit: int = -1) -> str:
    return s.replace(old, new, limit)


def _char_at(s: str, i: int) -> str:
    if not 0 <= i <= len(s):
        raise EvalError(f"index out of range: {i}")
    return s[i : i + 1]


def _aggregate(name: str) -> Callable[[list[CelValue]], CelValue]:
    def aggregate(items: list[CelValue]) -> CelValue:
        if name == "sum":
            if not items:
                return 0
            total = items[0]
            for x in items[1:]:
                total = total + x
            return check_int(total) if isinstance(total, int) else total
        if not items:
            raise EvalError(f"{name} called on empty list")
        return min(items) if name == "min" else max(items)

    return aggregate


def _is_url(s: str) -> bool:
    try:
        parsed = urllib.parse.urlsplit(s)
    except ValueError:
        return False
    return s.startswith("/") or (bool(parsed.scheme) and bool(parsed.netloc))


def _non_zero(x: CelValue) -> Optional:
    """optional.ofNonZeroValue: none for a type's zero value."""
    zero = x is None or x is False or x == Uint(0) or x in ([], {}, "", b"")
    zero = zero or (type(x) in (int, float) and x == 0)
    return Optional() if zero else Optional(x, True)


def _uint(x: CelValue) -> Uint:
    value = x.value if isinstance(x, Uint) else _int(x)
    if value < 0:
        raise EvalError("int out of uint range")
    return Uint(value)


def _optional_value(o: Optional) -> CelValue:
    if not o.present:
        raise EvalError("optional.none() dereference")
    return o.value


def _sets(name: str) -> Callable[[list[CelValue], list[CelValue]], bool]:
    def contains(a: list[CelValue], b: list[CelValue]) -> bool:
        return all(any(equal(x, y) for y in a) for x in b)

    if name == "sets.contains":
        return contains
    if name == "sets.equivalent":
        return lambda a, b: contains(a, b) and contains(b, a)
    return lambda a, b: any(any(equal(x, y) for y in b) for x in a)


IMPLEMENTATIONS: dict[str, Callable[..., CelValue]] = {
    "size": _size,
    "int": _int,
    "uint": _uint,
    "double": _double,
    "string": _string,
    "bytes": lambda x: x if isinstance(x, bytes) else x.encode(),
    "bool": lambda x: x if isinstance(x, bool) else {"true": True, "false": False}[x],
    "dyn": lambda x: x,
    "type": lambda x: CelType(type_name(x)),
    "timestamp": lambda x: x if isinstance(x, datetime) else parse_timestamp(x),
    "duration": lambda x: x if isinstance(x, timedelta) else parse_duration(x),
    "matches": lambda s, p: regexp(p).search(s) is not None,
    "contains": lambda s, sub: sub in s,
    "startsWith": lambda s, p: s.startswith(p),
    "endsWith": lambda s, p: s.endswith(p),
    "lowerAscii": lambda s: "".join(c.lower() if c.isascii() else c for c in s),
    "upperAscii": lambda s: "".join(c.upper() if c.isascii() else c for c in s),
    "trim": lambda s: s.strip(_UNICODE_SPACE),
    "charAt": _char_at,
    "split": _split,
    "replace": _replace,
    "substring": _substring,
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "join": lambda items, sep="": sep.join(items),
    "find": lambda s, p: next(iter(_find_all(s, p, 1)), ""),
    "findAll": _find_all,
    "isSorted": lambda items: all(a <= b for a, b in itertools.pairwise(items)),
    "sum": _aggregate("sum"),
    "min": _aggregate("min"),
    "max": _aggregate("max"),
    "isURL": _is_url,
    "sets.contains": _sets("sets.contains"),
    "sets.equivalent": _sets("sets.equivalent"),
    "sets.intersects": _sets("sets.intersects"),
    "optional.of": lambda x: Optional(x, True),
    "optional.ofNonZeroValue": _non_zero,
    "optional.none": lambda: Optional(),
    "hasValue": lambda o: o.present,
    "value": _optional_value,
    "orValue": lambda o, other: o.value if o.present else other,
    "or": lambda o, other: o if o.present else other,
}  # fmt: skip
