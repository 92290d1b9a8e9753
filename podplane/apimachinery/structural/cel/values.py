"""CEL values from a custom resource's JSON (UnstructuredToVal): numbers of `number` fields are
doubles, strings of format date/date-time timestamps, of format duration durations and of format
byte bytes; everything else is the JSON value itself. And CEL's equality and ordering over
them: numbers compare across int, uint and double; lists and maps deeply."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural.cel.ast import Uint
from podplane.apimachinery.structural.cel.runtime import (
    CelValue,
    EvalError,
    Optional,
    parse_duration,
    parse_timestamp,
    type_name,
)
from podplane.apimachinery.structural.schema import Structural


def to_cel(value: JSONValue, s: Structural | None) -> CelValue:
    """The CEL value of `value`, read through schema `s` (None: as it is)."""
    if s is None or value is None:
        return value
    if s.extensions.x_int_or_string:
        return value
    if isinstance(value, dict):  # a null field is an absent one
        additional = s.additional_schema
        return {
            k: to_cel(v, s.properties[k] if k in s.properties else additional)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [to_cel(v, s.items) for v in value]
    if s.type == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if s.type == "string" and isinstance(value, str):
        fmt = s.value_validation.format if s.value_validation else ""
        try:
            if fmt in ("date", "date-time"):
                return parse_timestamp(value if "T" in value.upper() else value + "T00:00:00Z")
            if fmt == "duration":
                return parse_duration(value)
            if fmt == "byte":
                return base64.b64decode(value, validate=True)
        except (EvalError, binascii.Error, ValueError):
            return value
    return value


def _number(x: CelValue) -> float | int | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, int | float):
        return x
    if isinstance(x, Uint):
        return x.value
    return None


def equal(a: CelValue, b: CelValue) -> bool:
    """CEL's ==: numbers by value across types, lists and maps deeply, other kinds by type."""
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(v, b[k]) for k, v in a.items())
    if isinstance(a, Optional):
        return a.present == b.present and (not a.present or equal(a.value, b.value))
    return bool(a == b)


def compare(a: CelValue, b: CelValue, op: str) -> int:
    """The ordering of a and b (-1, 0, 1) for <, <=, >, >=."""
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    kinds = (str, bytes, bool, datetime, timedelta)
    if type(a) is type(b) and isinstance(a, kinds):
        return int(a > b) - int(a < b)
    raise EvalError(f"no such overload: {op}({type_name(a)}, {type_name(b)})")
