"""How Go sees decoded JSON: an unstructured object's numbers are int64 when written without a
fraction or exponent and float64 otherwise (Python's json gives int and float the same way), and
reflect.DeepEqual tells int64(1) from float64(1) and both from true."""

from __future__ import annotations

import decimal
import json
import math

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural.field import go_float


def deep_equal(a: JSONValue, b: JSONValue) -> bool:
    """reflect.DeepEqual of two decoded JSON values: types must match at every level."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(deep_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return False
    return bool(a == b)


def json_marshal(value: JSONValue) -> str:
    """encoding/json's Marshal: keys sorted, no spaces, floats as Go writes them (1 for 1.0,
    1e+21 from 1e21 up)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        magnitude = abs(value)
        if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
            text = go_float(value)  # e+21, e-07: Go's JSON writes e-7
            return text[:-2] + text[-1] if text[-4:-1] in ("e-0",) else text
        fixed = format(decimal.Decimal(repr(value)), "f")
        return fixed.rstrip("0").rstrip(".") if "." in fixed else fixed
    if isinstance(value, dict):
        items = (f"{json.dumps(k, ensure_ascii=False)}:{json_marshal(v)}" for k, v in value.items())
        return "{" + ",".join(sorted(items)) + "}"
    return "[" + ",".join(json_marshal(v) for v in value) + "]"


def kind_of(value: JSONValue) -> str:
    """The JSON type of a decoded value, as OpenAPI names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
