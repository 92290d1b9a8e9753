"""A custom resource checked against its schema: kube-openapi's validator as apiextensions runs
it, with the apiserver's messages. Cases from apiextensions-apiserver pkg/apiserver/validation/
validation_test.go (TestValidateCustomResource), compared as sets as that test compares them."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.apimachinery.structural.openapi_validation import validate_value
from podplane.apimachinery.structural.props import decode_props


def errors(schema: dict[str, Any], obj: Any, old: Any = None) -> set[str]:
    props = decode_props(schema)
    if old is None:
        return {str(e) for e in validate_value(props, obj)}
    return {str(e) for e in validate_value(props, obj, None, old)}


def field_schema(**field: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"field": field}}


TYPE_NAMES = {"foo": "string", 42: "integer", True: "boolean", 1.2: "number"}


@pytest.mark.parametrize(
    "value, kind",
    [("foo", "string"), (42, "integer"), (True, "boolean"), (1.2, "number"), ([], "array")],
)
def test_a_value_of_the_wrong_type_names_both_types(value: Any, kind: str) -> None:
    assert errors(field_schema(type="object"), {"field": value}) == {
        f'field: Invalid value: "{kind}": field in body must be of type object: "{kind}"'
    }


def test_null_is_refused_unless_nullable() -> None:
    assert errors(field_schema(type="object"), {"field": None}) == {
        'field: Invalid value: "null": field in body must be of type object: "null"'
    }
    assert errors(field_schema(type="object", nullable=True), {"field": None}) == set()


@pytest.mark.parametrize("value", [{}, None, "foo", 42, True, 1.2, []])
def test_nullable_without_type_takes_anything(value: Any) -> None:
    assert errors(field_schema(nullable=True), {"field": value}) == set()


@pytest.mark.parametrize(
    "value, kind",
    [(None, "null"), (True, "boolean"), (1.2, "number"), ({}, "object"), ([], "array")],
)
def test_int_or_string_takes_integers_and_strings_only(value: Any, kind: str) -> None:
    schema = field_schema(**{"x-kubernetes-int-or-string": True})
    assert errors(schema, {"field": 42}) == errors(schema, {"field": "foo"}) == set()
    assert errors(schema, {"field": value}) == {
        f'field: Invalid value: "{kind}": field in body must be of type integer,string: "{kind}"'
    }


def test_int_or_string_with_its_any_of_reports_the_first_clause() -> None:
    schema = field_schema(
        nullable=True,
        **{"x-kubernetes-int-or-string": True},
        anyOf=[{"type": "integer"}, {"type": "string"}],
    )
    assert errors(schema, {"field": None}) == set()
    assert errors(schema, {"field": True}) == {
        '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
        'field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"',
        'field: Invalid value: "boolean": field in body must be of type integer: "boolean"',
    }


def test_int_or_string_with_all_of() -> None:
    schema = field_schema(
        nullable=True,
        **{"x-kubernetes-int-or-string": True},
        allOf=[{"anyOf": [{"type": "integer"}, {"type": "string"}]}],
    )
    assert errors(schema, {"field": []}) == {
        '<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated',
        '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)',
        'field: Invalid value: "array": field in body must be of type integer,string: "array"',
        'field: Invalid value: "array": field in body must be of type integer: "array"',
    }


def test_an_invalid_pattern_is_reported_with_go_s_parse_error() -> None:
    assert errors(field_schema(type="string", pattern="+"), {"field": "foo"}) == {
        'field: Invalid value: "foo": field in body should match \'+, but pattern is invalid: '
        "error parsing regexp: missing argument to repetition operator: `+`'"
    }


def test_required_fields() -> None:
    schema = {
        "type": "object",
        "required": ["field"],
        "properties": {
            "field": {"type": "object", "required": ["nested"], "properties": {"nested": {}}}
        },
    }
    assert errors(schema, {"test": "a"}) == {"field: Required value"}
    assert errors(schema, {"field": {}}) == {"field.nested: Required value"}


def test_enum_and_type_errors_together() -> None:
    schema = field_schema(
        type="object",
        required=["nestedint", "nestedstring"],
        properties={
            "nestedint": {"type": "integer", "enum": [1, 2]},
            "nestedstring": {"type": "string", "enum": ["a", "b"]},
        },
    )
    assert errors(schema, {"field": {}}) == {
        "field.nestedint: Required value",
        "field.nestedstring: Required value",
    }
    assert errors(schema, {"field": {"nestedint": "x", "nestedstring": True}}) == {
        'field.nestedint: Invalid value: "string": field.nestedint in body must be of type '
        'integer: "string"',
        'field.nestedint: Unsupported value: "x": supported values: "1", "2"',
        'field.nestedstring: Invalid value: "boolean": field.nestedstring in body must be of type '
        'string: "boolean"',
        'field.nestedstring: Unsupported value: true: supported values: "a", "b"',
    }


@pytest.mark.parametrize(
    "schema, value, expected",
    [
        (
            {"type": "object", "maxProperties": 2},
            {"a": 1, "b": 1, "c": 1},
            "fieldX: Too many: 3: must have at most 2 items",
        ),
        (
            {"type": "array", "maxItems": 2},
            ["a", "b", "c"],
            "fieldX: Too many: 3: must have at most 2 items",
        ),
        ({"type": "string", "maxLength": 2}, "abc", "fieldX: Too long: may not be longer than 2"),
        (
            {"type": "string", "minLength": 4},
            "abc",
            'fieldX: Invalid value: "abc": fieldX in body should be at least 4 chars long',
        ),
        (
            {"type": "array", "minItems": 2, "items": {"type": "string"}},
            ["a"],
            "fieldX: Invalid value: 1: fieldX in body should have at least 2 items",
        ),
        (
            {"type": "object", "minProperties": 1},
            {},
            "fieldX: Invalid value: 0: fieldX in body should have at least 1 properties",
        ),
        (
            {"type": "integer", "maximum": 10},
            11,
            "fieldX: Invalid value: 11: fieldX in body should be less than or equal to 10",
        ),
        (
            {"type": "integer", "maximum": 10, "exclusiveMaximum": True},
            10,
            "fieldX: Invalid value: 10: fieldX in body should be less than 10",
        ),
        (
            {"type": "integer", "minimum": 1},
            0,
            "fieldX: Invalid value: 0: fieldX in body should be greater than or equal to 1",
        ),
        (
            {"type": "number", "minimum": 0.5, "exclusiveMinimum": True},
            0.5,
            "fieldX: Invalid value: 0.5: fieldX in body should be greater than 0.5",
        ),
        (
            {"type": "number", "maximum": 1000000},
            1e7,
            "fieldX: Invalid value: 1e+07: fieldX in body should be less than or equal to 1e+06",
        ),
        (
            {"type": "integer", "multipleOf": 3},
            10,
            "fieldX: Invalid value: 10: fieldX in body should be a multiple of 3",
        ),
        (
            {"type": "number", "multipleOf": 0.5},
            0.75,
            "fieldX: Invalid value: 0.75: fieldX in body should be a multiple of 0.5",
        ),
        (
            {"type": "string", "pattern": "^[a-z]+$"},
            "A1",
            "fieldX: Invalid value: \"A1\": fieldX in body should match '^[a-z]+$'",
        ),
        (
            {"type": "string", "format": "date"},
            "2024-02-30",
            'fieldX: Invalid value: "2024-02-30": fieldX in body must be of type date: '
            '"2024-02-30"',
        ),
        (
            {"type": "string", "enum": ["small", "large"]},
            "huge",
            'fieldX: Unsupported value: "huge": supported values: "small", "large"',
        ),
    ],
)
def test_limits_and_patterns(schema: dict[str, Any], value: Any, expected: str) -> None:
    assert errors({"type": "object", "properties": {"fieldX": schema}}, {"fieldX": value}) == {
        expected
    }


def test_an_integral_number_is_an_integer_and_an_integer_a_number() -> None:
    assert errors(field_schema(type="integer"), {"field": 2.0}) == set()
    assert errors(field_schema(type="number"), {"field": 2}) == set()
    assert errors(field_schema(type="integer"), {"field": 2.5}) == {
        'field: Invalid value: "number": field in body must be of type integer: "number"'
    }


def test_enum_values_compare_as_go_converts_them() -> None:
    # An integer matches a float enum value, a float is truncated to an integer enum value.
    assert errors(field_schema(type="number", enum=[1.0, 2.5]), {"field": 1}) == set()
    assert errors(field_schema(type="number", enum=[1]), {"field": 1.9}) == set()
    assert errors(field_schema(type="object", enum=[{"a": 1}]), {"field": {"a": 1.0}}) == {
        'field: Unsupported value: map[string]interface {}{"a":1}: supported values: "{\\"a\\":1}"'
    }


def test_one_of_and_not() -> None:
    schema = field_schema(
        type="object",
        properties={"a": {"type": "string"}, "b": {"type": "string"}},
        oneOf=[{"required": ["a"]}, {"required": ["b"]}],
        **{"not": {"required": ["c"]}},
    )
    assert errors(schema, {"field": {"a": "x"}}) == set()
    assert errors(schema, {"field": {"a": "x", "b": "y"}}) == {
        '<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). '
        "Found 2 valid alternatives"
    }
    assert errors(schema, {"field": {}}) == {
        '<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). '
        "Found none valid",
        "field.a: Required value",
    }
    assert errors(schema, {"field": {"a": "x", "c": 1}}) == {
        '<nil>: Invalid value: "": "field" must not validate the schema (not)'
    }


def test_additional_properties_validate_each_value() -> None:
    schema = field_schema(type="object", additionalProperties={"type": "integer"})
    assert errors(schema, {"field": {"a": 1, "b": "x"}}) == {
        'field.b: Invalid value: "string": field.b in body must be of type integer: "string"'
    }


def test_items_are_validated_at_their_index() -> None:
    schema = field_schema(type="array", items={"type": "string", "maxLength": 1})
    assert errors(schema, {"field": ["a", "bc"]}) == {
        "field[1]: Too long: may not be longer than 1"
    }


def test_unsupported_formats_check_nothing() -> None:
    assert errors(field_schema(type="integer", format="int32"), {"field": 2**40}) == set()
    assert errors(field_schema(type="string", format="colour"), {"field": "x"}) == set()


def test_ratcheting_keeps_unchanged_invalid_values() -> None:
    schema = field_schema(type="string", maxLength=2)
    assert errors(schema, {"field": "abc"}, old={"field": "abc"}) == set()
    assert errors(schema, {"field": "abcd"}, old={"field": "abc"}) == {
        "field: Too long: may not be longer than 2"
    }


def test_ratcheting_correlates_map_list_items_by_key() -> None:
    schema = field_schema(
        type="array",
        **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
        items={
            "type": "object",
            "properties": {"name": {"type": "string"}, "v": {"type": "string", "maxLength": 1}},
        },
    )
    old = {"field": [{"name": "a", "v": "long"}]}
    new = {"field": [{"name": "b", "v": "x"}, {"name": "a", "v": "long"}]}
    assert errors(schema, new, old=old) == set()
    assert errors(schema, {"field": [{"name": "a", "v": "longer"}]}, old=old) == {
        "field[0].v: Too long: may not be longer than 1"
    }
