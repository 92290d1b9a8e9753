"""Field errors as k8s.io/apimachinery's util/validation/field makes them, and the Go formatting
their messages use.

The apiserver has its own FieldError (apiserver/validation/fields.py), which the machinery layer
cannot import. This one carries the same four things (path, type, value, detail) and prints
exactly as Go's `field.Error.Error()` does; `FieldError.shown_value()` gives the value in a form
the apiserver's FieldError prints the same way, so converting one into the other is
`fields.FieldError(e.path, e.label, e.shown_value(), e.detail)`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum

from podplane.apimachinery.json_types import JSONValue


class ErrorType(Enum):
    """field.ErrorType: the value is the metav1.CauseType (a Status cause's `reason`)."""

    NOT_FOUND = "FieldValueNotFound"
    REQUIRED = "FieldValueRequired"
    DUPLICATE = "FieldValueDuplicate"
    INVALID = "FieldValueInvalid"
    NOT_SUPPORTED = "FieldValueNotSupported"
    FORBIDDEN = "FieldValueForbidden"
    TOO_LONG = "FieldValueTooLong"
    TOO_MANY = "FieldValueTooMany"
    INTERNAL = "InternalError"
    TYPE_INVALID = "FieldValueTypeInvalid"

    @property
    def label(self) -> str:
        """ErrorType.String(): the words a message shows."""
        return _LABELS[self]


_LABELS = {
    ErrorType.NOT_FOUND: "Not found",
    ErrorType.REQUIRED: "Required value",
    ErrorType.DUPLICATE: "Duplicate value",
    ErrorType.INVALID: "Invalid value",
    ErrorType.NOT_SUPPORTED: "Unsupported value",
    ErrorType.FORBIDDEN: "Forbidden",
    ErrorType.TOO_LONG: "Too long",
    ErrorType.TOO_MANY: "Too many",
    ErrorType.INTERNAL: "Internal error",
    ErrorType.TYPE_INVALID: "Invalid value",
}
# The types whose message never shows the value (ErrorBody).
_VALUELESS = {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL}


class _Omit:
    """field's omitValue: a TooMany error whose count is unknown shows no value."""


OMIT = _Omit()


@dataclass(frozen=True)
class FieldError:
    path: str
    type: ErrorType
    value: JSONValue = ""
    detail: str = ""

    @property
    def label(self) -> str:
        return self.type.label

    def body(self) -> str:
        """ErrorBody(): the message without the field path."""
        if self.type in _VALUELESS or self.value is OMIT:
            text = self.label
        else:
            text = f"{self.label}: {go_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.path}: {self.body()}"

    def shown_value(self) -> object:
        """The value for a FieldError that prints str as %q and int and bool as JSON, and
        anything else with str(): a str, int or bool as it is, the rest pre-rendered."""
        if self.type in _VALUELESS or self.value is OMIT:
            return None
        if isinstance(self.value, (str, int)):  # bool is an int
            return self.value
        return Rendered(go_value(self.value))


@dataclass(frozen=True)
class Rendered:
    """A value already written as Go writes it (a Go struct's %#v, say)."""

    text: str

    def __str__(self) -> str:
        return self.text


# ------------------------------------------------------------------ constructors (field.*)
def required(path: str, detail: str = "") -> FieldError:
    return FieldError(path, ErrorType.REQUIRED, "", detail)


def invalid(path: str, value: JSONValue, detail: str) -> FieldError:
    return FieldError(path, ErrorType.INVALID, value, detail)


def type_invalid(path: str, value: JSONValue, detail: str) -> FieldError:
    return FieldError(path, ErrorType.TYPE_INVALID, value, detail)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError(path, ErrorType.FORBIDDEN, "", detail)


def duplicate(path: str, value: JSONValue) -> FieldError:
    return FieldError(path, ErrorType.DUPLICATE, value)


def not_supported(path: str, value: JSONValue, supported: list[str]) -> FieldError:
    detail = "supported values: " + ", ".join(go_quote(s) for s in supported) if supported else ""
    return FieldError(path, ErrorType.NOT_SUPPORTED, value, detail)


def too_long_max_length(path: str, value: JSONValue, max_length: int) -> FieldError:
    detail = f"may not be longer than {max_length}" if max_length >= 0 else "value is too long"
    return FieldError(path, ErrorType.TOO_LONG, value, detail)


def too_many(path: str, actual: int, maximum: int) -> FieldError:
    detail = f"must have at most {maximum} items" if maximum >= 0 else "has too many items"
    return FieldError(path, ErrorType.TOO_MANY, actual if actual >= 0 else OMIT, detail)


def internal_error(path: str, detail: str) -> FieldError:
    return FieldError(path, ErrorType.INTERNAL, None, detail)


# ------------------------------------------------------------------ paths (field.Path)
def child(path: str, *names: str) -> str:
    """path.Child(name...): `spec.versions`; from the root (""), the bare name."""
    for name in names:
        path = f"{path}.{name}" if path else name
    return path


def key(path: str, k: str) -> str:
    return f"{path}[{k}]"


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


# ------------------------------------------------------------------ Go's formatting
_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_GO_ESCAPES |= {"\v": "\\v", '"': '\\"', "\\": "\\\\"}


def go_quote(value: str) -> str:
    """`value` as Go's %q (strconv.Quote) writes it: printable characters as they are, the rest
    escaped as Go escapes them."""
    out = ['"']
    for char in value:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def go_float(value: float) -> str:
    """A float64 as Go's %v prints it (strconv 'g', shortest): an exponent from 1e+06 up and
    below 1e-04, at least two exponent digits, no trailing ".0"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    digits, exponent = _shortest(value)
    sign = "-" if value < 0 else ""
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp_sign = "-" if exponent < 0 else "+"
        return f"{sign}{mantissa}e{exp_sign}{abs(exponent):02d}"
    point = exponent + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _shortest(value: float) -> tuple[str, int]:
    """The shortest decimal digits that read back as `value`, and the decimal exponent of the
    first one (repr's digits: Python and Go both print the shortest round-trip form)."""
    text = repr(abs(value))
    if "e" in text:
        mantissa, _, exp = text.partition("e")
        digits = mantissa.replace(".", "").rstrip("0") or "0"
        return digits, int(exp)
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    if whole != "0":
        return (whole + frac).rstrip("0") or "0", len(whole) - 1
    stripped = frac.lstrip("0")
    return stripped, -(len(frac) - len(stripped)) - 1


def go_value(value: JSONValue) -> str:
    """A decoded JSON value as a field error prints it: %v for numbers and booleans, %q for
    strings, "null" (quoted, as Go quotes the string it puts for nil) for nil, and Go's %#v
    for maps and slices."""
    if value is None:
        return '"null"'
    if isinstance(value, str):
        return go_quote(value)
    return _go_sharp_v(value, top=True)


def _go_sharp_v(value: JSONValue, top: bool = False) -> str:
    if isinstance(value, Rendered):
        return value.text
    if value is None:
        return "null" if top else "interface {}(nil)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict):
        items = ", ".join(f"{go_quote(k)}:{_go_sharp_v(v)}" for k, v in sorted(value.items()))
        return "map[string]interface {}{" + items + "}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(_go_sharp_v(v) for v in value) + "}"
    return json.dumps(value)


def go_sprint(value: JSONValue) -> str:
    """fmt's %v of a decoded JSON value (enum lists, messages): maps as map[k:v], slices as
    [a b], strings bare."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_sprint(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    return str(value)
