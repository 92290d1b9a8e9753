"""CEL's runtime values beyond JSON's (optionals, types), its evaluation errors with cel-go's
messages, and the time formats of timestamps and durations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from podplane.apimachinery.structural.cel.ast import Uint
from podplane.apimachinery.structural.regex import RegexError, compile_go_regexp

# A CEL value as the evaluator holds it: None (null), bool, int, Uint, float, str, bytes, datetime
# (timestamp), timedelta (duration), list, dict, Optional or CelType. An alias of CelValue, as
# JSONValue is: a union would make every operation's operands a case analysis the evaluator
# already does at run time (cel-go's ref.Val), and mypy could not follow it.
CelValue: TypeAlias = Any


class EvalError(Exception):
    """A CEL evaluation error; str() is cel-go's message."""


@dataclass(frozen=True)
class Optional:
    value: CelValue = None
    present: bool = False


@dataclass(frozen=True)
class CelType:
    name: str

    def __str__(self) -> str:
        return self.name


class CelObject:
    """A value of an environment's own type (Kubernetes' Authorizer library's checks and
    decisions): its member functions are its `call`."""

    type_name = "object"

    def call(self, function: str, args: list[CelValue]) -> CelValue:
        raise no_overload(function, self, *args)


def type_name(value: CelValue) -> str:
    if isinstance(value, CelObject):
        return value.type_name
    if value is None:
        return "null_type"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Uint):
        return "uint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, timedelta):
        return "duration"
    if isinstance(value, Optional):
        return "optional_type"
    return "type"


def no_overload(name: str, *args: CelValue) -> EvalError:
    return EvalError(f"no such overload: {name}({', '.join(type_name(a) for a in args)})")


def check_int(value: int) -> int:
    if not -(2**63) <= value < 2**63:
        raise EvalError("integer overflow")
    return value


def regexp(pattern: str) -> re.Pattern[str]:
    try:
        return compile_go_regexp(pattern)
    except RegexError as e:
        raise EvalError(f"error parsing regexp: {e}") from e


_DURATION = re.compile(r"([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+\Z")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text)
    if text == "0":
        return timedelta(0)
    if m is None:
        raise EvalError(f'time: invalid duration "{text}"')
    seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(text))
    return timedelta(seconds=-seconds if m.group(1) == "-" else seconds)


_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?\Z"
)


def parse_timestamp(text: str) -> datetime:
    m = _TIMESTAMP.match(text)
    if m is None or m.group(4) is None:
        raise EvalError(f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": cannot parse')
    try:
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as e:
        raise EvalError(f'parsing time "{text}": {e}') from e
    return parsed.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def format_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    return f"{seconds:g}s" if seconds != int(seconds) else f"{int(seconds)}s"
