"""A custom resource validated against its schema as kube-openapi's validate.SchemaValidator
does it for apiextensions-apiserver (pkg/apiserver/validation): the type, the junctors (allOf,
anyOf, oneOf, not), string limits and pattern, format, numeric limits, array items and limits,
enum, object properties, additionalProperties and required, each value checked by the
validators that apply to its kind, in kube-openapi's order.

Errors are ValidationErrors (openapi_errors.py), turned into field errors by
`validate_custom_resource`. On update, unchanged values are not held to the schema
(CRDValidationRatcheting, on by default since 1.30): a value deep-equal to its old counterpart
(same property, or same keys in a map-type list) has its errors dropped."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural import formats
from podplane.apimachinery.structural import openapi_errors as errs
from podplane.apimachinery.structural.field import FieldError
from podplane.apimachinery.structural.openapi_errors import ValidationError
from podplane.apimachinery.structural.props import JSONSchemaProps
from podplane.apimachinery.structural.regex import RegexError, compile_go_regexp
from podplane.apimachinery.structural.values import deep_equal, kind_of

_NO_OLD = object()


@dataclass
class Result:
    errors: list[ValidationError] = field(default_factory=list)
    match_count: int = 0

    def add(self, *new: ValidationError | None) -> None:
        """AddErrors: an error whose message is already there is not added again."""
        for err in new:
            if err is not None and all(e.message != err.message for e in self.errors):
                self.errors.append(err)

    def merge(self, *others: Result | None) -> Result:
        for other in others:
            if other is not None:
                self.add(*other.errors)
                self.match_count += other.match_count
        return self

    @property
    def valid(self) -> bool:
        return not self.errors


def _fail(err: ValidationError) -> Result:
    return Result([err])


@dataclass(frozen=True)
class ValidatorOptions:
    # The runtime validator (NewSchemaValidator) drops the formats kube-apiserver does not check
    # and types an int-or-string value as [integer, string]; the one for defaults
    # (Structural.ToKubeOpenAPI) keeps the schema as it is.
    runtime: bool = True


class SchemaValidator:
    """validate.NewSchemaValidator(schema, nil, path, strfmt.Default) for one schema node."""

    def __init__(self, schema: JSONSchemaProps, path: str, options: ValidatorOptions) -> None:
        self.schema = schema
        self.path = path
        self.options = options
        types = [schema.type] if schema.type else []
        if options.runtime and schema.x_int_or_string:
            types = ["integer", "string"]
        self.types = types
        fmt = schema.format
        self.format = fmt if not options.runtime or formats.supported(fmt) else ""

    def child(self, schema: JSONSchemaProps, path: str) -> SchemaValidator:
        return SchemaValidator(schema, path, self.options)

    # -------------------------------------------------------------- entry
    def validate(self, data: JSONValue, old: JSONValue = _NO_OLD) -> Result:
        """Validate; with `old` (the correlated old value), errors of an unchanged value are
        dropped (the ratcheting validator)."""
        result = self._validate(data, old)
        if old is not _NO_OLD and not result.valid and deep_equal(data, old):
            return Result([], result.match_count)
        return result

    def _validate(self, data: JSONValue, old: JSONValue) -> Result:
        result = Result()
        if data is None:
            result.merge(self._type(data), self._common(data))
            return result
        kind = kind_of(data)
        checks: list[tuple[bool, Callable[[JSONValue], Result | None]]] = [
            (bool(self.types) or bool(self.format), self._type),
            (True, lambda d: self._schema_props(d, old)),
            (kind == "string", self._string),
            (kind == "string" and formats.supported(self.format), self._format),
            (kind in ("integer", "number"), self._number),
            (kind == "array", lambda d: self._slice(d, old)),
            (True, self._common),
            (kind == "object", lambda d: self._object(d, old)),
        ]
        for applies, check in checks:
            if applies:
                result.merge(check(data))
                result.match_count += 1
        result.match_count += 1
        return result

    # -------------------------------------------------------------- type (type.go)
    def _type(self, data: JSONValue) -> Result:
        types, fmt = self.types, self.format
        if data is None:
            if types and "null" not in types and not self.schema.nullable:
                return _fail(errs.invalid_type(self.path, ",".join(types), "null"))
            return Result(match_count=1)
        kind = kind_of(data)
        data_format = {"integer": "int64", "number": "float64"}.get(kind, "")
        float_int = kind == "number" and is_json_integer(data) and "integer" in types
        int_float = kind == "integer" and "number" in types
        if (
            kind not in ("string", "array")
            and fmt
            and not (kind in types or data_format == fmt or float_int or int_float)
        ):
            return _fail(errs.invalid_type(self.path, fmt, data_format))
        if "number" not in types and "integer" not in types and fmt and kind in ("string", "array"):
            return Result(match_count=1)
        if not (kind in types or float_int or int_float):
            return _fail(errs.invalid_type(self.path, ",".join(types), kind))
        return Result(match_count=1)

    # -------------------------------------------------------------- junctors (schema_props.go)
    def _schema_props(self, data: JSONValue, old: JSONValue) -> Result:
        s, main = self.schema, Result()
        if s.any_of:
            best: Result | None = None
            first_success: Result | None = None
            for clause in s.any_of:
                result = self.child(clause, self.path).validate(data)
                if result.valid:
                    best, first_success = None, result
                    break
                if best is None or result.match_count > best.match_count:
                    best = result
            if first_success is None:
                main.add(errs.composite(f'"{self.path}" must validate at least one schema (anyOf)'))
            main.merge(best if best is not None else first_success)
        if s.one_of:
            best, first_success, validated = None, None, 0
            for clause in s.one_of:
                result = self.child(clause, self.path).validate(data)
                if result.valid:
                    validated += 1
                    best = None
                    first_success = first_success or result
                    continue
                if validated == 0 and (best is None or result.match_count > best.match_count):
                    best = result
            if validated != 1:
                found = (
                    "Found none valid"
                    if validated == 0
                    else f"Found {validated} valid alternatives"
                )
                main.add(
                    errs.composite(
                        f'"{self.path}" must validate one and only one schema (oneOf). {found}'
                    )
                )
                main.merge(best)
            else:
                main.merge(first_success)
        if s.all_of:
            validated = 0
            for clause in s.all_of:
                result = self.child(clause, self.path).validate(data)
                validated += result.valid
                main.merge(result)
            if validated != len(s.all_of):
                none = ". None validated" if validated == 0 else ""
                main.add(
                    errs.composite(f'"{self.path}" must validate all the schemas (allOf){none}')
                )
        if s.not_ is not None and self.child(s.not_, self.path).validate(data).valid:
            main.add(errs.composite(f'"{self.path}" must not validate the schema (not)'))
        main.match_count += 1
        return main

    # -------------------------------------------------------------- strings, formats
    def _string(self, data: str) -> Result | None:
        s, length = self.schema, len(data)
        if s.max_length is not None and length > s.max_length:
            return _fail(errs.too_long(self.path, s.max_length, data))
        if s.min_length is not None and length < s.min_length:
            return _fail(errs.too_short(self.path, s.min_length, data))
        if s.pattern:
            try:
                matched = compile_go_regexp(s.pattern).search(data) is not None
            except RegexError as e:
                return _fail(
                    errs.failed_pattern(
                        self.path, f"{s.pattern}, but pattern is invalid: {e}", data
                    )
                )
            if not matched:
                return _fail(errs.failed_pattern(self.path, s.pattern, data))
        return None

    def _format(self, data: str) -> Result | None:
        if not formats.validates(self.format, data):
            return _fail(errs.invalid_type(self.path, self.format, data))
        return None

    # -------------------------------------------------------------- numbers (validator.go)
    def _number(self, data: int | float) -> Result:
        s, result = self.schema, Result()
        is_int = isinstance(data, int)
        if s.multiple_of is not None:
            factor: int | float = _go_int(s.multiple_of) if is_int else s.multiple_of
            if factor <= 0:
                result.add(errs.multiple_of_must_be_positive(self.path, factor))
            elif not _is_multiple(data, factor):
                result.add(errs.not_multiple_of(self.path, factor, data))
        if s.maximum is not None:
            bound: int | float = _go_int(s.maximum) if is_int else s.maximum
            if data > bound or (s.exclusive_maximum and data >= bound):
                result.add(errs.exceeds_maximum(self.path, bound, s.exclusive_maximum, data))
        if s.minimum is not None:
            bound = _go_int(s.minimum) if is_int else s.minimum
            if data < bound or (s.exclusive_minimum and data <= bound):
                result.add(errs.exceeds_minimum(self.path, bound, s.exclusive_minimum, data))
        result.match_count += 1
        return result

    # -------------------------------------------------------------- arrays (slice_validator.go)
    def _slice(self, data: list[JSONValue], old: JSONValue) -> Result:
        s, result = self.schema, Result()
        if s.items is not None:
            for i, item in enumerate(data):
                validator = self.child(s.items, f"{self.path}[{i}]")
                result.merge(validator.validate(item, _correlated_item(s, item, old)))
        size = len(data)
        if s.min_items is not None and size < s.min_items:
            result.add(errs.too_few_items(self.path, s.min_items, size))
        if s.max_items is not None and size > s.max_items:
            result.add(errs.too_many_items(self.path, s.max_items, size))
        if s.unique_items and any(deep_equal(a, b) for i, a in enumerate(data) for b in data[:i]):
            result.add(errs.duplicate_items(self.path))
        result.match_count += 1
        return result

    # -------------------------------------------------------------- enum (basicCommonValidator)
    def _common(self, data: JSONValue) -> Result | None:
        enum = self.schema.enum
        if enum and not any(_enum_matches(data, value) for value in enum):
            return _fail(errs.enum_fail(self.path, data, enum))
        return None

    # -------------------------------------------------------------- objects (object_validator.go)
    def _object(self, data: dict[str, JSONValue], old: JSONValue) -> Result:
        s, result = self.schema, Result()
        size = len(data)
        if s.min_properties is not None and size < s.min_properties:
            result.add(errs.too_few_properties(self.path, s.min_properties, size))
        if s.max_properties is not None and size > s.max_properties:
            result.add(errs.too_many_properties(self.path, s.max_properties, size))
        additional = s.additional_properties
        if additional is not None and not additional.allows:
            for name in data:
                if name not in s.properties:
                    result.add(errs.property_not_allowed(self.path, name))
        elif additional is not None and additional.schema is not None:
            for name, value in data.items():
                if name not in s.properties:
                    validator = self.child(additional.schema, f"{self.path}.{name}")
                    result.merge(validator.validate(value, self._old_field(old, name)))
        for name, prop in s.properties.items():
            if name in data:
                path = f"{self.path}.{name}" if self.path else name
                result.merge(
                    self.child(prop, path).validate(data[name], self._old_field(old, name))
                )
        for name in s.required:
            if name not in data:
                result.add(errs.required_fail(f"{self.path}.{name}"))
        return result

    def _old_field(self, old: JSONValue, name: str) -> JSONValue:
        if not isinstance(old, dict) or name not in old:
            return _NO_OLD
        if not self.path and name in ("kind", "apiVersion"):
            return _NO_OLD
        return old[name]


def _go_int(value: float) -> int:
    """Go's int64(float64): truncation toward zero."""
    return int(value) if math.isfinite(value) else 0


def _is_multiple(data: int | float, factor: int | float) -> bool:
    if isinstance(data, int) and isinstance(factor, int):
        return data % factor == 0
    return is_json_integer(data / factor if factor >= 1 else 1 / factor * data)


def is_json_integer(value: float) -> bool:
    """swag.IsFloat64AJSONInteger: an integer within 2^53, up to a relative error of 1e-9."""
    if not math.isfinite(value) or abs(value) > 2**53:
        return False
    whole = float(math.trunc(value))
    if value == whole:
        return True
    if whole == 0:
        return False
    return abs(value - whole) / (abs(value) + abs(whole)) < 1e-9


def _enum_matches(data: JSONValue, value: JSONValue) -> bool:
    """basicCommonValidator: the value converted to the enum value's Go type (where Go can
    convert it: int64 and float64 into each other, int64 into a string as a rune) equals it."""
    if data is None or value is None:
        return False
    if isinstance(value, bool) or isinstance(data, bool):
        return isinstance(data, bool) and isinstance(value, bool) and data == value
    if isinstance(value, float) and isinstance(data, int):
        return float(data) == value
    if isinstance(value, int) and isinstance(data, float):
        return math.isfinite(data) and int(data) == value
    if isinstance(value, str) and isinstance(data, int):
        return (chr(data) if 0 <= data <= 0x10FFFF else "\ufffd") == value
    return deep_equal(data, value)


def _correlated_item(schema: JSONSchemaProps, item: JSONValue, old: JSONValue) -> JSONValue:
    """The old item a new one is correlated with: only in map-type lists, by the map keys."""
    keys = schema.x_list_map_keys
    if schema.x_list_type != "map" or not keys or not isinstance(old, list):
        return _NO_OLD
    if not isinstance(item, dict):
        return _NO_OLD
    for candidate in old:
        if isinstance(candidate, dict) and all(
            deep_equal(candidate.get(k), item.get(k)) for k in keys
        ):
            return candidate
    return _NO_OLD


def validate_value(
    schema: JSONSchemaProps,
    value: JSONValue,
    root: str | None = None,
    old: JSONValue = _NO_OLD,
    options: ValidatorOptions = ValidatorOptions(),
) -> list[FieldError]:
    """ValidateCustomResource / ValidateCustomResourceUpdate: the field errors of `value`
    against `schema`. `root` is the value's path (None for a whole object, Go's nil path:
    `status` for the status subresource's validation); `old` the value before an update."""
    result = SchemaValidator(schema, "", options).validate(value, old)
    return errs.to_field_errors(root, result.errors)


NO_OLD = _NO_OLD
