"""structured-merge-diff's own merge test cases (sigs.k8s.io/structured-merge-diff/v4
merge/*_test.go, run by its internal/fixture), each named as there: applies and updates by
several managers on one value, then the value and who owns what. Leaf fields (leaf_test.go
TestUpdateLeaf), sets (set_test.go TestUpdateSet), lists of type map (key_test.go,
multiple_appliers_test.go TestMultipleAppliersSet), structs (nested_test.go), defaulted keys
(default_keys_test.go), duplicates (duplicates_test.go) and ignored fields (ignore_test.go)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.machinery.fieldmanager.smd import Apply, Case, Update, p, run, v

LEAF = {
    "type": "object",
    "properties": {
        "numeric": {"type": "number"},
        "string": {"type": "string"},
        "bool": {"type": "boolean"},
    },
}
SET = {
    "type": "object",
    "properties": {
        "list": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}
    },
}
ELEMENT = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "value": {"type": "number"}},
}
ASSOCIATIVE = {
    "type": "object",
    "properties": {
        "list": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": ELEMENT,
        }
    },
}
NESTED = {"type": "object", "properties": {"struct": ELEMENT}}
PORTS = {
    "type": "object",
    "properties": {
        "containerPorts": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["port", "protocol"],
            "items": {
                "type": "object",
                "properties": {
                    "port": {"type": "number"},
                    "protocol": {"type": "string", "default": "TCP"},
                    "name": {"type": "string"},
                },
            },
        }
    },
}
DUPLICATES = {
    "type": "object",
    "properties": {
        "list": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "value1": {"type": "number"},
                    "value2": {"type": "number"},
                },
            },
        },
        "unrelated": {"type": "number"},
        "set": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "number"}},
    },
}


# deduced_test.go's DeducedParser: every value's type is read off the value.
DEDUCED = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def conflicts(*found: tuple[str, tuple[str, ...]]) -> frozenset[tuple[str, tuple[str, ...]]]:
    return frozenset(found)


CASES: dict[str, tuple[dict[str, Any], Case]] = {
    # leaf_test.go TestUpdateLeaf
    "leaf/apply_twice": (
        LEAF,
        Case(
            [
                Apply("default", "v1", 'numeric: 1\nstring: "string"'),
                Apply("default", "v1", 'numeric: 2\nstring: "string"\nbool: false'),
            ],
            live='numeric: 2\nstring: "string"\nbool: false',
            managed={"default": ([p("numeric"), p("string"), p("bool")], "v1")},
        ),
    ),
    "leaf/apply_twice_different_versions": (
        LEAF,
        Case(
            [
                Apply("default", "v1", 'numeric: 1\nstring: "string"'),
                Apply("default", "v2", 'numeric: 2\nstring: "string"\nbool: false'),
            ],
            live='numeric: 2\nstring: "string"\nbool: false',
            managed={"default": ([p("numeric"), p("string"), p("bool")], "v2")},
        ),
    ),
    "leaf/apply_update_apply_no_conflict": (
        LEAF,
        Case(
            [
                Apply("default", "v1", 'numeric: 1\nstring: "string"'),
                Update("controller", "v1", 'numeric: 1\nstring: "string"\nbool: true'),
                Apply("default", "v1", 'numeric: 2\nstring: "string"'),
            ],
            live='numeric: 2\nstring: "string"\nbool: true',
            managed={
                "default": ([p("numeric"), p("string")], "v1"),
                "controller": ([p("bool")], "v1"),
            },
        ),
    ),
    "leaf/apply_update_apply_with_conflict": (
        LEAF,
        Case(
            [
                Apply("default", "v1", 'numeric: 1\nstring: "string"'),
                Update("controller", "v1", 'numeric: 1\nstring: "controller string"\nbool: true'),
                Apply(
                    "default",
                    "v1",
                    'numeric: 2\nstring: "user string"',
                    conflicts=conflicts(("controller", p("string"))),
                ),
                Apply("default", "v1", 'numeric: 2\nstring: "user string"', force=True),
            ],
            live='numeric: 2\nstring: "user string"\nbool: true',
            managed={
                "default": ([p("numeric"), p("string")], "v1"),
                "controller": ([p("bool")], "v1"),
            },
        ),
    ),
    "leaf/apply_twice_remove": (
        LEAF,
        Case(
            [
                Apply("default", "v1", 'numeric: 1\nstring: "string"\nbool: false'),
                Apply("default", "v1", 'string: "new string"'),
            ],
            live='string: "new string"',
            managed={"default": ([p("string")], "v1")},
        ),
    ),
    "leaf/update_apply_omits": (
        LEAF,
        Case(
            [
                Apply("default", "v1", "numeric: 2"),
                Update("controller", "v1", "numeric: 1"),
                Apply("default", "v1", ""),
            ],
            live="numeric: 1",
            managed={"controller": ([p("numeric")], "v1")},
        ),
    ),
    "leaf/update_remove_empty_set": (
        LEAF,
        Case(
            [
                Apply("default", "v1", 'string: "string"'),
                Update("controller", "v1", 'string: "new string"'),
            ],
            live='string: "new string"',
            managed={"controller": ([p("string")], "v1")},
        ),
    ),
    "leaf/apply_remove_empty_set": (
        LEAF,
        Case(
            [Apply("default", "v1", 'string: "string"'), Apply("default", "v1", "")],
            live="",
            managed={},
        ),
    ),
    # set_test.go TestUpdateSet
    "set/apply_twice": (
        SET,
        Case(
            [
                Apply("default", "v1", "list: [a, c]"),
                Apply("default", "v1", "list: [a, b, c, d]"),
            ],
            live="list: [a, b, c, d]",
            managed={"default": ([p("list", v(x)) for x in "abcd"], "v1")},
        ),
    ),
    "set/apply_update_apply_no_overlap": (
        SET,
        Case(
            [
                Apply("default", "v1", "list: [a, c]"),
                Update("controller", "v1", "list: [a, b, c, d]"),
                Apply("default", "v1", "list: [a, aprime, c, cprime]"),
            ],
            live="list: [a, b, aprime, c, d, cprime]",
            managed={
                "default": ([p("list", v(x)) for x in ("a", "aprime", "c", "cprime")], "v1"),
                "controller": ([p("list", v("b")), p("list", v("d"))], "v1"),
            },
        ),
    ),
    "set/apply_update_apply_with_overlap": (
        SET,
        Case(
            [
                Apply("default", "v1", "list: [a, c]"),
                Update("controller", "v1", "list: [a, b, c, d]"),
                Apply("default", "v1", "list: [a, b, c]"),
            ],
            live="list: [a, b, c, d]",
            managed={
                "default": ([p("list", v(x)) for x in "abc"], "v1"),
                "controller": ([p("list", v("b")), p("list", v("d"))], "v1"),
            },
        ),
    ),
    "set/apply_twice_reorder": (
        SET,
        Case(
            [
                Apply("default", "v1", "list: [a, b, c, d]"),
                Apply("default", "v1", "list: [a, d, c, b]"),
            ],
            live="list: [a, d, c, b]",
            managed={"default": ([p("list", v(x)) for x in "abcd"], "v1")},
        ),
    ),
    "set/apply_update_apply_reorder": (
        SET,
        Case(
            [
                Apply("default", "v1", "list: [a, b, c, d]"),
                Update("controller", "v1", "list: [a, d, c, b]"),
                Apply("default", "v1", "list: [a, b, c, d]"),
            ],
            live="list: [a, b, c, d]",
            managed={"default": ([p("list", v(x)) for x in "abcd"], "v1")},
        ),
    ),
    # key_test.go TestUpdateAssociativeLists
    "key/removing_obsolete_applied_structs": (
        ASSOCIATIVE,
        Case(
            [
                Apply("default", "v1", "list:\n- name: a\n  value: 1"),
                Apply("default", "v1", "list:\n- name: b\n  value: 2"),
            ],
            live="list:\n- name: b\n  value: 2",
            managed={
                "default": (
                    [
                        p("list", {"name": "b"}),
                        p("list", {"name": "b"}, "name"),
                        p("list", {"name": "b"}, "value"),
                    ],
                    "v1",
                )
            },
        ),
    ),
    # multiple_appliers_test.go TestMultipleAppliersSet
    "multiple_appliers/remove_one": (
        ASSOCIATIVE,
        Case(
            [
                Apply("apply-one", "v1", "list:\n- name: a\n- name: b"),
                Apply("apply-two", "v2", "list:\n- name: c"),
                Apply("apply-one", "v3", "list:\n- name: a"),
            ],
            live="list:\n- name: a\n- name: c",
            managed={
                "apply-one": ([p("list", {"name": "a"}), p("list", {"name": "a"}, "name")], "v3"),
                "apply-two": ([p("list", {"name": "c"}), p("list", {"name": "c"}, "name")], "v2"),
            },
        ),
    ),
    "multiple_appliers/same_value_no_conflict": (
        ASSOCIATIVE,
        Case(
            [
                Apply("apply-one", "v1", "list:\n- name: a\n  value: 0"),
                Apply("apply-two", "v2", "list:\n- name: a\n  value: 0"),
            ],
            live="list:\n- name: a\n  value: 0",
            managed={
                manager: (
                    [
                        p("list", {"name": "a"}),
                        p("list", {"name": "a"}, "name"),
                        p("list", {"name": "a"}, "value"),
                    ],
                    version,
                )
                for manager, version in (("apply-one", "v1"), ("apply-two", "v2"))
            },
        ),
    ),
    "multiple_appliers/change_value_yes_conflict": (
        ASSOCIATIVE,
        Case(
            [
                Apply("apply-one", "v1", "list:\n- name: a\n  value: 0"),
                Apply(
                    "apply-two",
                    "v2",
                    "list:\n- name: a\n  value: 1",
                    conflicts=conflicts(("apply-one", p("list", {"name": "a"}, "value"))),
                ),
            ],
            live="list:\n- name: a\n  value: 0",
            managed={
                "apply-one": (
                    [
                        p("list", {"name": "a"}),
                        p("list", {"name": "a"}, "name"),
                        p("list", {"name": "a"}, "value"),
                    ],
                    "v1",
                )
            },
        ),
    ),
    "multiple_appliers/remove_one_keep_one": (
        ASSOCIATIVE,
        Case(
            [
                Apply("apply-one", "v1", "list:\n- name: a\n- name: b\n- name: c"),
                Apply("apply-two", "v2", "list:\n- name: c\n- name: d"),
                Apply("apply-one", "v3", "list:\n- name: a"),
            ],
            live="list:\n- name: a\n- name: c\n- name: d",
            managed={
                "apply-one": ([p("list", {"name": "a"}), p("list", {"name": "a"}, "name")], "v3"),
                "apply-two": (
                    [
                        p("list", {"name": "c"}),
                        p("list", {"name": "d"}),
                        p("list", {"name": "c"}, "name"),
                        p("list", {"name": "d"}, "name"),
                    ],
                    "v2",
                ),
            },
        ),
    ),
    # nested_test.go TestUpdateNestedType
    "nested/struct_apply_remove_all": (
        NESTED,
        Case(
            [Apply("default", "v1", "struct:\n  name: a\n  value: 1"), Apply("default", "v1", "")],
            live="",
            managed={},
        ),
    ),
    "nested/struct_apply_remove_dangling": (
        NESTED,
        Case(
            [Apply("default", "v1", "struct:\n  name: a"), Apply("default", "v1", "struct:")],
            live="struct:",
            managed={"default": ([p("struct")], "v1")},
        ),
    ),
    "nested/struct_apply_update_remove_all": (
        NESTED,
        Case(
            [
                Apply("default", "v1", "struct:\n  name: a"),
                Update("controller", "v1", "struct:\n  name: a\n  value: 1"),
                Apply("default", "v1", ""),
            ],
            live="struct:\n  value: 1",
        ),
    ),
    "nested/struct_apply_update_dict_dangling": (
        NESTED,
        Case(
            [
                Apply("default", "v1", "struct:\n  name: a"),
                Update("controller", "v1", "struct:\n  name: a\n  value: 1"),
                Apply("default", "v1", "struct: {}"),
            ],
            live="struct:\n  value: 1",
        ),
    ),
    "nested/struct_apply_update_dict_null": (
        NESTED,
        Case(
            [
                Apply("default", "v1", "struct:\n  name: a"),
                Update("controller", "v1", "struct:\n  name: a\n  value: 1"),
                Apply("default", "v1", "struct:"),
            ],
            live="struct:\n  value: 1",
        ),
    ),
    "nested/struct_apply_update_took_over": (
        NESTED,
        Case(
            [
                Apply("default", "v1", "struct:\n  name: a"),
                Update("controller", "v1", "struct:\n  name: b\n  value: 1"),
                Apply("default", "v1", "struct:"),
            ],
            live="struct:\n  name: b\n  value: 1",
        ),
    ),
    # default_keys_test.go TestDefaultKeysFlat
    "default_keys/apply_missing_defaulted_key_A": (
        PORTS,
        Case(
            [Apply("default", "v1", "containerPorts:\n- port: 80")],
            live="containerPorts:\n- port: 80",
            managed={
                "default": (
                    [
                        p("containerPorts", {"port": 80, "protocol": "TCP"}),
                        p("containerPorts", {"port": 80, "protocol": "TCP"}, "port"),
                    ],
                    "v1",
                )
            },
        ),
    ),
    "default_keys/apply_missing_defaulted_key_B": (
        PORTS,
        Case(
            [Apply("default", "v1", "containerPorts:\n- port: 80\n- port: 80\n  protocol: UDP")],
            managed={
                "default": (
                    [
                        p("containerPorts", {"port": 80, "protocol": "TCP"}),
                        p("containerPorts", {"port": 80, "protocol": "TCP"}, "port"),
                        p("containerPorts", {"port": 80, "protocol": "UDP"}),
                        p("containerPorts", {"port": 80, "protocol": "UDP"}, "port"),
                        p("containerPorts", {"port": 80, "protocol": "UDP"}, "protocol"),
                    ],
                    "v1",
                )
            },
        ),
    ),
    "default_keys/apply_missing_defaulted_key_with_conflict": (
        PORTS,
        Case(
            [
                Apply(
                    "apply-one", "v1", "containerPorts:\n- port: 80\n  protocol: TCP\n  name: foo"
                ),
                Apply(
                    "apply-two",
                    "v1",
                    "containerPorts:\n- port: 80\n  name: bar",
                    conflicts=conflicts(
                        (
                            "apply-one",
                            p("containerPorts", {"port": 80, "protocol": "TCP"}, "name"),
                        )
                    ),
                ),
            ],
            live="containerPorts:\n- port: 80\n  protocol: TCP\n  name: foo",
        ),
    ),
    # duplicates_test.go TestDuplicates
    "duplicates/sets/ownership/duplicates": (
        DUPLICATES,
        Case(
            [Update("updater-one", "v1", "set: [1, 1, 3, 4]")],
            managed={
                "updater-one": ([p("set"), p("set", v(1)), p("set", v(3)), p("set", v(4))], "v1")
            },
        ),
    ),
    "duplicates/sets/ownership/add_duplicate": (
        DUPLICATES,
        Case(
            [
                Update("updater-one", "v1", "set: [1, 3, 4]"),
                Update("updater-two", "v1", "set: [1, 1, 3, 4]"),
            ],
            managed={
                "updater-one": ([p("set"), p("set", v(3)), p("set", v(4))], "v1"),
                "updater-two": ([p("set", v(1))], "v1"),
            },
        ),
    ),
    "duplicates/sets/merging/remove_duplicate": (
        DUPLICATES,
        Case(
            [
                Update("updater", "v1", "set: [1, 1, 3, 4]"),
                Apply(
                    "applier",
                    "v1",
                    "set: [1]",
                    conflicts=conflicts(("updater", p("set", v(1)))),
                ),
                Apply("applier", "v1", "set: [1]", force=True),
            ],
            live="set: [1, 3, 4]",
            managed={
                "updater": ([p("set"), p("set", v(3)), p("set", v(4))], "v1"),
                "applier": ([p("set", v(1))], "v1"),
            },
        ),
    ),
    "duplicates/sets/merging/ignore_duplicate": (
        DUPLICATES,
        Case(
            [Update("updater", "v1", "set: [1, 1, 3, 4]"), Apply("applier", "v1", "set: [5]")],
            live="set: [1, 1, 3, 4, 5]",
            managed={
                "updater": ([p("set"), p("set", v(1)), p("set", v(3)), p("set", v(4))], "v1"),
                "applier": ([p("set", v(5))], "v1"),
            },
        ),
    ),
    # ignore_test.go TestIgnoredFields
    "ignore/update_does_not_own_ignored": (
        LEAF,
        Case(
            [Update("default", "v1", 'numeric: 1\nstring: "some string"')],
            live='numeric: 1\nstring: "some string"',
            managed={"default": ([p("numeric")], "v1")},
            ignored={"v1": [p("string")]},
        ),
    ),
    "ignore/apply_does_not_own_ignored": (
        LEAF,
        Case(
            [Apply("default", "v1", 'numeric: 1\nstring: "some string"')],
            live='numeric: 1\nstring: "some string"',
            managed={"default": ([p("numeric")], "v1")},
            ignored={"v1": [p("string")]},
        ),
    ),
    "ignore/update_does_not_own_deep_ignored": (
        DEDUCED,
        Case(
            [Update("default", "v1", '{"numeric": 1, "obj": {"string": "foo", "numeric": 2}}')],
            live='{"numeric": 1, "obj": {"string": "foo", "numeric": 2}}',
            managed={"default": ([p("numeric")], "v1")},
            ignored={"v1": [p("obj")]},
        ),
    ),
}


@pytest.mark.parametrize("schema,case", CASES.values(), ids=CASES.keys())
def test_structured_merge_diff_case(schema: dict[str, Any], case: Case) -> None:
    run(case, schema)
