"""Whether a structural schema is structural (apiextensions-apiserver pkg/apiserver/schema/
validation.go and complete.go, ValidateStructural):

- every field and every array's items has a type (or is int-or-string or preserves unknown
  fields); the root is an object and has no additionalProperties;
- the clauses of allOf, anyOf, oneOf and not hold value validations only (no type, default,
  description, title, nullable, extensions, additionalProperties, or metadata), except the two
  int-or-string patterns;
- every property, items or additionalProperties a clause restricts is also specified outside
  the clauses;
- an embedded resource is an object that preserves unknown fields or specifies properties;
- metadata at the root restricts name and generateName only, and nowhere else.

Errors come sorted by their text, as Kubernetes sorts them."""

from __future__ import annotations

from enum import Enum

from podplane.apimachinery.structural.field import (
    FieldError,
    child,
    forbidden,
    index,
    invalid,
    key,
    required,
)
from podplane.apimachinery.structural.regex import RegexError, compile_go_regexp
from podplane.apimachinery.structural.schema import (
    Extensions,
    Generic,
    NestedValueValidation,
    Structural,
    ValueValidation,
)


class _Level(Enum):
    ROOT = 0
    ITEM = 1
    FIELD = 2


_INT_OR_STRING_ANY_OF = [
    NestedValueValidation(forbidden_generics=Generic(type="integer")),
    NestedValueValidation(forbidden_generics=Generic(type="string")),
]


def is_int_or_string_any_of(s: Structural) -> bool:
    """anyOf: [{type: integer}, {type: string}]."""
    return s.value_validation is not None and s.value_validation.any_of == _INT_OR_STRING_ANY_OF


def is_int_or_string_all_of(s: Structural) -> bool:
    """allOf: [{anyOf: [{type: integer}, {type: string}]}, ...]."""
    vv = s.value_validation
    return (
        vv is not None
        and bool(vv.all_of)
        and vv.all_of[0].value_validation.any_of == (_INT_OR_STRING_ANY_OF)
    )


def validate_structural(path: str, s: Structural) -> list[FieldError]:
    """ValidateStructural: the invariants and completeness of a structural schema."""
    errs = _invariants(s, _Level.ROOT, path) + _completeness(s, path)
    return sorted(errs, key=str)


def _invariants(s: Structural | None, level: _Level, path: str) -> list[FieldError]:
    if s is None:
        return []
    errs: list[FieldError] = []
    if s.type == "array" and s.items is None:
        errs.append(required(child(path, "items"), "must be specified"))
    errs += _invariants(s.items, _Level.ITEM, child(path, "items"))
    for name, prop in s.properties.items():
        errs += _invariants(prop, _Level.FIELD, key(child(path, "properties"), name))
    if s.additional_properties is not None:
        if level is _Level.ROOT:
            errs.append(
                forbidden(child(path, "additionalProperties"), "must not be used at the root")
            )
        errs += _invariants(
            s.additional_properties.schema, _Level.FIELD, child(path, "additionalProperties")
        )
    errs += _extension_errors(s.extensions, path)
    errs += _value_validation(
        s.value_validation, is_int_or_string_any_of(s), is_int_or_string_all_of(s), level, path
    )

    x = s.extensions
    if x.x_embedded_resource and s.type != "object":
        detail = "must be object if x-kubernetes-embedded-resource is true"
        if not s.type:
            errs.append(required(child(path, "type"), detail))
        else:
            errs.append(invalid(child(path, "type"), s.type, detail))
    elif not s.type and not x.x_int_or_string and not x.x_preserve_unknown_fields:
        where = {
            _Level.ROOT: "at the root",
            _Level.ITEM: "for specified array items",
            _Level.FIELD: "for specified object fields",
        }[level]
        errs.append(required(child(path, "type"), f"must not be empty {where}"))
    if x.x_embedded_resource and s.additional_properties is not None:
        errs.append(
            forbidden(
                child(path, "additionalProperties"),
                "must not be used if x-kubernetes-embedded-resource is set",
            )
        )
    if level is _Level.ROOT and s.type and s.type != "object":
        errs.append(invalid(child(path, "type"), s.type, "must be object at the root"))

    check_metadata = level is _Level.ROOT or x.x_embedded_resource
    for name in ("kind", "apiVersion"):
        meta_prop = s.properties.get(name)
        if meta_prop is not None and check_metadata and meta_prop.type != "string":
            errs.append(
                invalid(
                    child(key(child(path, "properties"), name), "type"), prop.type, "must be string"
                )
            )
    metadata = s.properties.get("metadata")
    if metadata is not None:
        errs += _metadata_invariants(
            metadata, check_metadata, level, key(child(path, "properties"), "metadata")
        )
    if x.x_embedded_resource and not x.x_preserve_unknown_fields and not s.properties:
        errs.append(
            required(
                child(path, "properties"),
                "must not be empty if x-kubernetes-embedded-resource is true without "
                "x-kubernetes-preserve-unknown-fields",
            )
        )
    return errs


def _metadata_invariants(
    s: Structural, check_metadata: bool, level: _Level, path: str
) -> list[FieldError]:
    errs: list[FieldError] = []
    if check_metadata and s.type != "object":
        errs.append(invalid(child(path, "type"), s.type, "must be object"))
    if level is _Level.ROOT:
        names = set(s.properties)
        restricts_names_only = names in ({"name"}, {"generateName"}, {"name", "generateName"})
        rest = Structural(
            items=s.items,
            properties={} if restricts_names_only else s.properties,
            additional_properties=s.additional_properties,
            generic=Generic(description=s.generic.description, title=s.generic.title),
            extensions=s.extensions,
            x_validations=s.x_validations,
            value_validation=s.value_validation or ValueValidation(),
        )
        rest.generic.nullable = s.generic.nullable
        if rest != Structural(value_validation=ValueValidation()):
            errs.append(
                forbidden(
                    path,
                    "must not specify anything other than name and generateName, but metadata "
                    "is implicitly specified",
                )
            )
    return errs


def _extension_errors(x: Extensions, path: str) -> list[FieldError]:
    errs = []
    if x.x_int_or_string and x.x_preserve_unknown_fields:
        errs.append(
            invalid(
                child(path, "x-kubernetes-preserve-unknown-fields"),
                True,
                "must be false if x-kubernetes-int-or-string is true",
            )
        )
    if x.x_int_or_string and x.x_embedded_resource:
        errs.append(
            invalid(
                child(path, "x-kubernetes-embedded-resource"),
                True,
                "must be false if x-kubernetes-int-or-string is true",
            )
        )
    return errs


def _value_validation(
    v: ValueValidation | None,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    level: _Level,
    path: str,
) -> list[FieldError]:
    if v is None:
        return []
    errs: list[FieldError] = []
    if not skip_any_of:
        for i, clause in enumerate(v.any_of):
            errs += _nested(clause, False, level, index(child(path, "anyOf"), i))
    for i, clause in enumerate(v.all_of):
        skip = skip_first_all_of_any_of and i == 0
        errs += _nested(clause, skip, level, index(child(path, "allOf"), i))
    for i, clause in enumerate(v.one_of):
        errs += _nested(clause, False, level, index(child(path, "oneOf"), i))
    errs += _nested(v.not_, False, level, child(path, "not"))
    if v.pattern:
        try:
            compile_go_regexp(v.pattern)
        except RegexError as e:
            errs.append(
                invalid(
                    child(path, "pattern"),
                    v.pattern,
                    f"must be a valid regular expression, but isn't: {e}",
                )
            )
    return errs


_MUST_BE_EMPTY = "must be empty to be structural"
_MUST_BE_UNDEFINED = "must be undefined to be structural"
_MUST_BE_FALSE = "must be false to be structural"


def _nested(
    v: NestedValueValidation | None, skip_any_of: bool, level: _Level, path: str
) -> list[FieldError]:
    if v is None:
        return []
    errs = _value_validation(v.value_validation, skip_any_of, False, level, path)
    errs += _nested(v.items, False, level, child(path, "items"))
    for name, prop in v.properties.items():
        errs += _nested(prop, False, _Level.FIELD, key(child(path, "properties"), name))
    g, x = v.forbidden_generics, v.forbidden_extensions
    if g.type:
        errs.append(forbidden(child(path, "type"), _MUST_BE_EMPTY))
    if v.additional_properties is not None:
        errs.append(forbidden(child(path, "additionalProperties"), _MUST_BE_UNDEFINED))
    if g.has_default:
        errs.append(forbidden(child(path, "default"), _MUST_BE_UNDEFINED))
    if g.title:
        errs.append(forbidden(child(path, "title"), _MUST_BE_EMPTY))
    if g.description:
        errs.append(forbidden(child(path, "description"), _MUST_BE_EMPTY))
    if g.nullable:
        errs.append(forbidden(child(path, "nullable"), _MUST_BE_FALSE))
    for flag, name in (
        (x.x_preserve_unknown_fields, "x-kubernetes-preserve-unknown-fields"),
        (x.x_embedded_resource, "x-kubernetes-embedded-resource"),
        (x.x_int_or_string, "x-kubernetes-int-or-string"),
    ):
        if flag:
            errs.append(forbidden(child(path, name), _MUST_BE_FALSE))
    if x.x_list_map_keys:
        errs.append(forbidden(child(path, "x-kubernetes-list-map-keys"), _MUST_BE_EMPTY))
    if x.x_list_type is not None:
        errs.append(forbidden(child(path, "x-kubernetes-list-type"), _MUST_BE_UNDEFINED))
    if x.x_map_type is not None:
        errs.append(forbidden(child(path, "x-kubernetes-map-type"), _MUST_BE_UNDEFINED))
    if v.x_validations:
        errs.append(forbidden(child(path, "x-kubernetes-validations"), _MUST_BE_EMPTY))
    if "metadata" in v.properties:
        errs.append(
            forbidden(
                key(child(path, "properties"), "metadata"),
                "must not be specified in a nested context",
            )
        )
    return errs


# ------------------------------------------------------------------ completeness (complete.go)
def _completeness(s: Structural, path: str) -> list[FieldError]:
    return _vv_completeness(s.value_validation, s, path, path)


def _vv_completeness(
    v: ValueValidation | None, s: Structural | None, s_path: str, v_path: str
) -> list[FieldError]:
    if v is None:
        return []
    if s is None:
        return [required(s_path, f"because it is defined in {v_path}")]
    errs = _nested_completeness(v.not_, s, s_path, child(v_path, "not"))
    for name, clauses in (("allOf", v.all_of), ("anyOf", v.any_of), ("oneOf", v.one_of)):
        for i, clause in enumerate(clauses):
            errs += _nested_completeness(clause, s, s_path, index(child(v_path, name), i))
    return errs


def _nested_completeness(
    v: NestedValueValidation | None, s: Structural | None, s_path: str, v_path: str
) -> list[FieldError]:
    if v is None:
        return []
    if s is None:
        return [required(s_path, f"because it is defined in {v_path}")]
    errs = _vv_completeness(v.value_validation, s, s_path, v_path)
    errs += _nested_completeness(v.items, s.items, child(s_path, "items"), child(v_path, "items"))
    for name, prop in v.properties.items():
        s_prop_path = key(child(s_path, "properties"), name)
        v_prop_path = key(child(v_path, "properties"), name)
        if name not in s.properties:
            errs.append(required(s_prop_path, f"because it is defined in {v_prop_path}"))
        else:
            errs += _nested_completeness(prop, s.properties[name], s_prop_path, v_prop_path)
    return errs
