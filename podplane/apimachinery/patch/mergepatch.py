"""JSON merge patch (RFC 7386, application/merge-patch+json), and what every patch type shares:
the error, JSON value helpers, and Kubernetes' wording of its errors (as Kubernetes keeps its
patch errors in k8s.io/apimachinery/pkg/util/mergepatch).

A merge patch is an object shaped like the document: its members replace the document's, objects
merge recursively and null deletes. Lists are replaced whole; strategic merge patch
(strategicpatch.py) is the variant that merges them."""

from __future__ import annotations

import json
import math
from collections.abc import Hashable
from decimal import Decimal

from podplane.apimachinery.json_types import JSONObject, JSONValue

BAD_REQUEST = 400
UNPROCESSABLE = 422
ENTITY_TOO_LARGE = 413


class PatchError(ValueError):
    """A patch the server cannot apply. `code` is the HTTP status to answer with: 400 for a
    malformed patch (not the JSON shape the patch type needs, a bad directive format), 422 for one
    that does not apply to the object (missing path, failed test, missing merge key), 413 for too
    many operations. (Kubernetes answers 500 for some of the 422s; bad input is never a 500 here.)

    The message is worded as Kubernetes' libraries word it (evanphx/json-patch, strategicpatch).
    Kubernetes' own Status for a 422 says only "the server rejected our request due to an error in
    our request"; the REST handler may return that sentence, this message, or both."""

    def __init__(self, message: str, code: int = UNPROCESSABLE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def apply_merge_patch(document: JSONObject, patch: JSONValue) -> JSONObject:
    """Applies a JSON merge patch to an object's JSON. The patch must be an object (Kubernetes
    answers 400 "Invalid JSON Patch" otherwise). Neither argument is modified; the result shares
    unchanged values with them."""
    if not isinstance(patch, dict):
        raise PatchError("Invalid JSON Patch", BAD_REQUEST)
    merged = merge(document, patch)
    assert isinstance(merged, dict)
    return merged


def merge(target: JSONValue, patch: JSONValue) -> JSONValue:
    """RFC 7386 MergePatch(Target, Patch) over any JSON values."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


# ---------------------------------------------------------------- JSON values


def json_type(value: JSONValue) -> str:
    """ "object", "array", "string", "number", "bool" or "null"."""
    kind = _JSON_TYPES.get(type(value))
    if kind is None:  # a subclass, from a caller's own decoder
        kind = next((name for t, name in _JSON_TYPES.items() if isinstance(value, t)), "number")
    return kind


_JSON_TYPES = {
    str: "string",
    dict: "object",
    list: "array",
    bool: "bool",
    int: "number",
    float: "number",
    type(None): "null",
}


def json_equal(a: JSONValue, b: JSONValue) -> bool:
    """Structural equality of parsed JSON, where true is not 1 (Python's == says it is)."""
    if type(a) is str:
        return type(b) is str and a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and len(a) == len(b)
            and all(k in b and json_equal(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    return bool(a == b)


def json_key(value: JSONValue) -> Hashable:
    """A dict key under which equal JSON values collide: 1 and 1.0 do, true and 1 do not."""
    kind = type(value)
    if kind is str or kind is int or kind is float or value is None:
        key: Hashable = value  # Python's equality is JSON's for these
        return key
    if kind is bool:
        return (bool, value)
    return (list, json.dumps(value, sort_keys=True))


def copy_json(value: JSONValue) -> JSONValue:
    """A deep copy of parsed JSON, several times faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


# ---------------------------------------------------------------- Kubernetes' wording


def go_format(value: JSONValue) -> str:
    """A JSON value as Go's fmt prints it with %v (map[a:1 b:[x y]])."""
    if type(value) is str:
        return value
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    """%v of a float64: its shortest digits, in exponent form below 1e-4 and from 1e6."""
    if math.isnan(value) or math.isinf(value):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    if value == 0:
        return "0"
    number = Decimal(repr(value)).normalize()
    digits = "".join(map(str, number.as_tuple().digits))
    exponent = number.adjusted()
    if -4 <= exponent < 6:
        return format(number, "f")
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if value < 0 else ""
    return f"{sign}{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"


def go_type_name(value: JSONValue) -> str:
    """The Go type encoding/json decodes the value into, as Go prints it."""
    kind = json_type(value)
    if kind == "number":
        return "int64" if isinstance(value, int) else "float64"
    return {"object": "map[string]interface {}", "array": "[]interface {}", "null": "<nil>"}.get(
        kind, kind
    )


def bad_arg_type(expected: str, actual: JSONValue) -> PatchError:
    return PatchError(f"expected a {expected}, but received a {go_type_name(actual)}")


def no_merge_key(item: JSONValue, merge_key: str) -> PatchError:
    return PatchError(f"map: {go_format(item)} does not contain declared merge key: {merge_key}")


def bad_patch_type(directive: JSONValue, item: JSONValue) -> PatchError:
    return PatchError(f"unknown patch type: {go_format(directive)} in map: {go_format(item)}")
