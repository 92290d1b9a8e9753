"""x-kubernetes-list-type set and map uniqueness. Cases from apiextensions-apiserver
pkg/apiserver/schema/listtype/validation_test.go."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.apimachinery.structural.listtype import validate_lists
from podplane.apimachinery.structural.props import decode_props
from podplane.apimachinery.structural.schema import new_structural


def errors(field: dict[str, Any], value: Any) -> list[str]:
    schema = new_structural(decode_props({"properties": {"field": field}}))
    return [str(e) for e in validate_lists("", schema, {"field": value})]


SET = {"x-kubernetes-list-type": "set"}
MAP = {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"]}
MAP2 = {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k1", "k2"]}


@pytest.mark.parametrize(
    "field, value, expected",
    [
        (SET, ["a"], []),
        (SET, ["a", "a"], ['field[1]: Duplicate value: "a"']),
        (SET, ["a", "b"], []),
        (
            SET,
            ["a", "a", "b", "b", "a"],
            ['field[1]: Duplicate value: "a"', 'field[3]: Duplicate value: "b"'],
        ),
        ({}, ["a", "a"], []),
        (SET, [1, 1.0, True], []),  # int64, float64 and bool are different Go values
        (SET, [{"a": 1}, {"a": 1}], ['field[1]: Duplicate value: map[string]interface {}{"a":1}']),
        (SET, [[1], [1]], ["field[1]: Duplicate value: []interface {}{1}"]),
        ({**SET, "items": SET}, [["a", "a"], ["b"]], ['field[0][1]: Duplicate value: "a"']),
        (
            MAP,
            [{"k": "a", "v": 1}, {"k": "a", "v": 2}],
            ['field[1]: Duplicate value: map[string]interface {}{"k":"a"}'],
        ),
        (MAP, [{"v": 1}, {"v": 2}], ["field[1]: Duplicate value: map[string]interface {}{}"]),
        (MAP, [{"k": "a"}, {"k": "b"}], []),
        (
            MAP,
            ["x"],
            ['field[0]: Invalid value: "x": must be an object for an array of list-type map'],
        ),
        (
            MAP2,
            [{"k1": "a", "k2": 1}, {"k1": "a", "k2": 2}, {"k1": "a", "k2": 1}],
            ['field[2]: Duplicate value: map[string]interface {}{"k1":"a", "k2":1}'],
        ),
    ],
)
def test_lists(field: dict[str, Any], value: Any, expected: list[str]) -> None:
    assert errors(field, value) == expected


def test_lists_under_additional_properties() -> None:
    schema = new_structural(decode_props({"additionalProperties": {**SET}}))
    assert [str(e) for e in validate_lists("", schema, {"x": ["a", "a"]})] == [
        '[x][1]: Duplicate value: "a"'
    ]
