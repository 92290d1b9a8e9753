"""Pruning and defaulting of custom resources. Cases from apiextensions-apiserver
pkg/apiserver/schema/pruning/algorithm_test.go (TestPrune) and defaulting/algorithm_test.go
(TestDefault), with the schemas written as JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podplane.apimachinery.structural.defaulting import apply_defaults, prune_non_nullable_nulls
from podplane.apimachinery.structural.props import decode_props
from podplane.apimachinery.structural.pruning import prune
from podplane.apimachinery.structural.schema import Structural, new_structural


def structural(schema: dict[str, Any] | None) -> Structural | None:
    return None if schema is None else new_structural(decode_props(schema))


A_C: dict[str, Any] = {"properties": {"a": {}, "c": {}}}


@pytest.mark.parametrize(
    "name, obj, schema, root, expected, pruned",
    [
        ("scalar", "4", {}, False, "4", []),
        ("scalar array", "[1,2]", {"items": {}}, False, "[1,2]", []),
        (
            "object array",
            '[{"a":1},{"b":1},{"a":1,"b":2,"c":3}]',
            {"items": A_C},
            False,
            '[{"a":1},{},{"a":1,"c":3}]',
            ["[1].b", "[2].b"],
        ),
        (
            "object array with nil schema",
            '[{"a":1},{"b":1},{"a":1,"b":2,"c":3}]',
            None,
            False,
            "[{},{},{}]",
            ["[0].a", "[1].b", "[2].a", "[2].b", "[2].c"],
        ),
        (
            "object array object",
            '{"array":[{"a":1},{"b":1},{"a":1,"b":2,"c":3}],"unspecified":{"a":1},"specified":{"a":1,"b":2,"c":3}}',
            {"properties": {"array": {"items": A_C}, "specified": A_C}},
            False,
            '{"array":[{"a":1},{},{"a":1,"c":3}],"specified":{"a":1,"c":3}}',
            ["array[1].b", "array[2].b", "specified.b", "unspecified"],
        ),
        (
            "resource root keeps apiVersion, kind and metadata unreported",
            '{"apiVersion":"a/v1","kind":"K","metadata":{"x":1},"spec":{"a":1,"b":1},"x":1}',
            {"type": "object", "properties": {"spec": A_C}},
            True,
            '{"apiVersion":"a/v1","kind":"K","metadata":{"x":1},"spec":{"a":1}}',
            ["spec.b", "x"],
        ),
        (
            "nested meta fields are pruned and reported",
            '{"spec":{"kind":"x","metadata":{}}}',
            {"type": "object", "properties": {"spec": {"type": "object"}}},
            True,
            '{"spec":{}}',
            ["spec.kind", "spec.metadata"],
        ),
        (
            "embedded resources keep their meta fields",
            '{"spec":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"other":1}}',
            {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "x-kubernetes-embedded-resource": True,
                        "properties": {"other": {}},
                    }
                },
            },
            True,
            '{"spec":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"other":1}}',
            [],
        ),
        (
            "preserve unknown fields keeps the unknown and prunes the known",
            '{"p":{"u":1,"known":{"u":1},"list":[{"u":1}]}}',
            {
                "type": "object",
                "properties": {
                    "p": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                        "properties": {"known": {"type": "object"}},
                    }
                },
            },
            False,
            '{"p":{"u":1,"known":{},"list":[{"u":1}]}}',
            ["p.known.u"],
        ),
        (
            "additionalProperties values are pruned by their schema",
            '{"m":{"x":{"a":1,"b":2}}}',
            {
                "type": "object",
                "properties": {
                    "m": {
                        "type": "object",
                        "additionalProperties": {"type": "object", "properties": {"a": {}}},
                    }
                },
            },
            False,
            '{"m":{"x":{"a":1}}}',
            ["m.x.b"],
        ),
    ],
)
def test_prune(
    name: str, obj: str, schema: dict[str, Any] | None, root: bool, expected: str, pruned: list[str]
) -> None:
    value = json.loads(obj)
    assert prune(value, structural(schema), root) == pruned
    assert value == json.loads(expected)


ABC_DEFAULTS = {
    "items": {
        "properties": {
            "a": {"default": "A"},
            "b": {"default": "B"},
            "c": {"default": "C"},
        }
    }
}


@pytest.mark.parametrize(
    "name, obj, schema, expected",
    [
        ("empty", "null", None, "null"),
        ("scalar", "4", {"default": "foo"}, "4"),
        ("scalar array", "[1,2]", {"items": {"default": "foo"}}, "[1,2]"),
        (
            "object array",
            '[{"a":1},{"b":1},{"c":1}]',
            ABC_DEFAULTS,
            '[{"a":1,"b":"B","c":"C"},{"a":"A","b":1,"c":"C"},{"a":"A","b":"B","c":1}]',
        ),
        (
            "object array object",
            '{"array":[{"a":1},{"b":2}],"object":{"a":1},"additionalProperties":{"x":{"a":1},"y":{"b":2}}}',
            {
                "properties": {
                    "array": {
                        "items": {"properties": {"a": {"default": "A"}, "b": {"default": "B"}}}
                    },
                    "object": {"properties": {"a": {"default": "N"}, "b": {"default": "O"}}},
                    "additionalProperties": {
                        "additionalProperties": {
                            "properties": {"a": {"default": "alpha"}, "b": {"default": "beta"}}
                        }
                    },
                    "foo": {"default": "bar"},
                }
            },
            '{"array":[{"a":1,"b":"B"},{"a":"A","b":2}],"object":{"a":1,"b":"O"},"additionalProperties":{"x":{"a":1,"b":"beta"},"y":{"a":"alpha","b":2}},"foo":"bar"}',
        ),
        (
            "empty and null",
            '[{},{"a":1},{"a":0},{"a":0.0},{"a":""},{"a":null},{"a":[]},{"a":{}}]',
            {"items": {"properties": {"a": {"default": "A"}}}},
            '[{"a":"A"},{"a":1},{"a":0},{"a":0.0},{"a":""},{"a":"A"},{"a":[]},{"a":{}}]',
        ),
        (
            "null in nullable list",
            "[null]",
            {"items": {"nullable": True, "default": "A"}},
            "[null]",
        ),
        ("null in non-nullable list", "[null]", {"items": {"default": "A"}}, '["A"]'),
        (
            "null in nullable object",
            '{"a": null}',
            {"properties": {"a": {"nullable": True, "default": "A"}}},
            '{"a": null}',
        ),
        (
            "null in non-nullable object",
            '{"a": null}',
            {"properties": {"a": {"default": "A"}}},
            '{"a": "A"}',
        ),
        (
            "null in nullable additionalProperties",
            '{"a": null}',
            {"additionalProperties": {"nullable": True, "default": "A"}},
            '{"a": null}',
        ),
        (
            "null in non-nullable additionalProperties",
            '{"a": null}',
            {"additionalProperties": {"default": "A"}},
            '{"a": "A"}',
        ),
        ("null unknown field", '{"a": null}', {"additionalProperties": True}, '{"a": null}'),
    ],
)
def test_default(name: str, obj: str, schema: dict[str, Any] | None, expected: str) -> None:
    value = json.loads(obj)
    apply_defaults(value, structural(schema))
    assert value == json.loads(expected)
    # 0 and 0.0 stay apart
    assert json.dumps(value, sort_keys=True) == json.dumps(json.loads(expected), sort_keys=True)


def test_defaults_are_copies() -> None:
    value: dict[str, Any] = {}
    schema = structural({"properties": {"a": {"default": {"b": [1]}}}})
    apply_defaults(value, schema)
    value["a"]["b"].append(2)
    assert schema is not None and schema.properties["a"].generic.default == {"b": [1]}


@pytest.mark.parametrize(
    "obj, schema, expected",
    [
        (
            '{"a":null,"b":null,"c":null,"d":null}',
            {"properties": {"a": {}, "b": {"nullable": True}, "c": {"default": 1}}},
            '{"b":null,"c":null,"d":null}',
        ),
        ('{"m":{"x":null}}', {"properties": {"m": {"additionalProperties": {}}}}, '{"m":{}}'),
        (
            '{"l":[{"a":null}]}',
            {"properties": {"l": {"items": {"properties": {"a": {}}}}}},
            '{"l":[{}]}',
        ),
    ],
)
def test_prune_non_nullable_nulls(obj: str, schema: dict[str, Any], expected: str) -> None:
    value = json.loads(obj)
    prune_non_nullable_nulls(value, structural(schema))
    assert value == json.loads(expected)
