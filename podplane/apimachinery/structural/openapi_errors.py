"""kube-openapi's validation errors (pkg/validation/errors) and their conversion into field
errors as apiextensions-apiserver makes it (kubeOpenAPIResultToFieldErrors).

An error of a value's own check (type, limits, enum, required...) has a code and the dotted
name of the value (`spec.replicas`), which becomes the field error's path; the junctors' errors
(anyOf, oneOf, allOf, not) have neither and land on the validation's root path, which for a
whole object is Go's nil path, printed `<nil>`:
`<nil>: Invalid value: "": "spec.x" must validate one and only one schema (oneOf). Found none
valid`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural.field import (
    FieldError,
    child,
    go_float,
    go_quote,
    go_sprint,
    invalid,
    not_supported,
    required,
    too_long_max_length,
    too_many,
    type_invalid,
)
from podplane.apimachinery.structural.values import json_marshal

IN = "body"


class Code(Enum):
    INVALID_TYPE = auto()
    REQUIRED = auto()
    TOO_LONG = auto()
    TOO_SHORT = auto()
    PATTERN = auto()
    ENUM = auto()
    MULTIPLE_OF = auto()
    MAX = auto()
    MIN = auto()
    UNIQUE = auto()
    MAX_ITEMS = auto()
    MIN_ITEMS = auto()
    TOO_FEW_PROPERTIES = auto()
    TOO_MANY_PROPERTIES = auto()
    UNALLOWED_PROPERTY = auto()
    MULTIPLE_OF_MUST_BE_POSITIVE = auto()


@dataclass(frozen=True)
class ValidationError:
    """errors.Validation (code set) or a composite error (code None: message only)."""

    message: str
    code: Code | None = None
    name: str = ""
    value: JSONValue = None
    valid: int | None = None
    values: tuple[JSONValue, ...] = ()


def _num(value: int | float) -> str:
    return go_float(value) if isinstance(value, float) else str(value)


def invalid_type(name: str, type_name: str, value: JSONValue) -> ValidationError:
    shown = f": {go_quote(value)}" if isinstance(value, str) else ""
    return ValidationError(
        f"{name} in {IN} must be of type {type_name}{shown}", Code.INVALID_TYPE, name, value
    )


def required_fail(name: str) -> ValidationError:
    return ValidationError(f"{name} in {IN} is required", Code.REQUIRED, name)


def too_long(name: str, maximum: int, value: str) -> ValidationError:
    message = f"{name} in {IN} should be at most {maximum} chars long"
    return ValidationError(message, Code.TOO_LONG, name, value, maximum)


def too_short(name: str, minimum: int, value: str) -> ValidationError:
    message = f"{name} in {IN} should be at least {minimum} chars long"
    return ValidationError(message, Code.TOO_SHORT, name, value, minimum)


def failed_pattern(name: str, pattern: str, value: str) -> ValidationError:
    return ValidationError(f"{name} in {IN} should match '{pattern}'", Code.PATTERN, name, value)


def enum_fail(name: str, value: JSONValue, values: list[JSONValue]) -> ValidationError:
    message = f"{name} in {IN} should be one of {go_sprint(values)}"
    return ValidationError(message, Code.ENUM, name, value, None, tuple(values))


def not_multiple_of(name: str, factor: int | float, value: int | float) -> ValidationError:
    message = f"{name} in {IN} should be a multiple of {_num(factor)}"
    return ValidationError(message, Code.MULTIPLE_OF, name, value)


def multiple_of_must_be_positive(name: str, factor: int | float) -> ValidationError:
    message = f"factor MultipleOf declared for {name} must be positive: {_num(factor)}"
    return ValidationError(message, Code.MULTIPLE_OF_MUST_BE_POSITIVE, name, factor)


def exceeds_maximum(
    name: str, maximum: int | float, exclusive: bool, value: int | float
) -> ValidationError:
    relation = "less than" if exclusive else "less than or equal to"
    message = f"{name} in {IN} should be {relation} {_num(maximum)}"
    return ValidationError(message, Code.MAX, name, value)


def exceeds_minimum(
    name: str, minimum: int | float, exclusive: bool, value: int | float
) -> ValidationError:
    relation = "greater than" if exclusive else "greater than or equal to"
    message = f"{name} in {IN} should be {relation} {_num(minimum)}"
    return ValidationError(message, Code.MIN, name, value)


def duplicate_items(name: str) -> ValidationError:
    return ValidationError(f"{name} in {IN} shouldn't contain duplicates", Code.UNIQUE, name)


def too_many_items(name: str, maximum: int, size: int) -> ValidationError:
    message = f"{name} in {IN} should have at most {maximum} items"
    return ValidationError(message, Code.MAX_ITEMS, name, size, maximum)


def too_few_items(name: str, minimum: int, size: int) -> ValidationError:
    message = f"{name} in {IN} should have at least {minimum} items"
    return ValidationError(message, Code.MIN_ITEMS, name, size, minimum)


def too_few_properties(name: str, minimum: int, size: int) -> ValidationError:
    message = f"{name} in {IN} should have at least {minimum} properties"
    return ValidationError(message, Code.TOO_FEW_PROPERTIES, name, size, minimum)


def too_many_properties(name: str, maximum: int, size: int) -> ValidationError:
    message = f"{name} in {IN} should have at most {maximum} properties"
    return ValidationError(message, Code.TOO_MANY_PROPERTIES, name, size, maximum)


def property_not_allowed(name: str, key: str) -> ValidationError:
    message = f"{name}.{key} in {IN} is a forbidden property"
    return ValidationError(message, Code.UNALLOWED_PROPERTY, name, key)


def composite(message: str) -> ValidationError:
    return ValidationError(message)


# ------------------------------------------------------------------ into field errors
def to_field_errors(root: str | None, errors: list[ValidationError]) -> list[FieldError]:
    """kubeOpenAPIResultToFieldErrors. `root` is the path the validated value is at (None for a
    whole object: Go's nil path)."""
    out = []
    for err in errors:
        if err.code is None:
            out.append(invalid(_path(root), "", err.message))
            continue
        name = err.name.removeprefix(".") if err.name and err.name != "." else ""
        path = child(root or "", name) if name else _path(root)
        value = "" if err.value is None else err.value
        if err.code is Code.REQUIRED:
            out.append(required(path))
        elif err.code is Code.ENUM:
            shown = [v if isinstance(v, str) else json_marshal(v) for v in err.values]
            out.append(not_supported(path, err.value, shown))
        elif err.code is Code.TOO_LONG:
            out.append(too_long_max_length(path, value, err.valid if err.valid is not None else -1))
        elif err.code in (Code.MAX_ITEMS, Code.TOO_MANY_PROPERTIES):
            actual = err.value if isinstance(err.value, int) else -1
            out.append(too_many(path, actual, err.valid if err.valid is not None else -1))
        elif err.code is Code.INVALID_TYPE:
            out.append(type_invalid(path, value, err.message))
        else:
            out.append(invalid(path, value, err.message))
    return out


def _path(root: str | None) -> str:
    return "<nil>" if root is None else root
