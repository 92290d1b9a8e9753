"""CEL expressions of x-kubernetes-validations evaluated over custom resource values. Cases from
apiextensions-apiserver pkg/apiserver/schema/cel/validation_test.go (TestValidationExpressions:
each rule is valid, or its error contains the given text)."""

from __future__ import annotations

from typing import Any

from podplane.apimachinery.structural.cel_rules import RuleValidator
from podplane.apimachinery.structural.props import decode_props
from podplane.apimachinery.structural.schema import new_structural


def evaluate(
    properties: dict[str, Any], obj: Any, rule: str, old: Any = None, root: bool = False
) -> list[str]:
    schema = {
        "type": "object",
        "properties": properties,
        "x-kubernetes-validations": [{"rule": rule}],
    }
    validator = RuleValidator(new_structural(decode_props(schema)), root)
    return [str(e) for e in validator.validate(None, obj, old, ratchet=False)]


def check(
    properties: dict[str, Any],
    obj: Any,
    valid: list[str],
    errors: dict[str, str],
    root: bool = False,
) -> None:
    for rule in valid:
        assert evaluate(properties, obj, rule, root=root) == [], rule
    for rule, expected in errors.items():
        got = evaluate(properties, obj, rule, root=root)
        assert len(got) == 1 and expected in got[0], (rule, got)


INT, STR, NUM = {"type": "integer"}, {"type": "string"}, {"type": "number"}


def obj_type(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def test_integers() -> None:
    check(
        {"val1": INT, "val2": INT},
        {"val1": 2**63 - 1, "val2": 2**63 - 1},
        ["self.val1 == self.val2", "self.val1 == 9223372036854775807", "type(self.val1) == int"],
        {"self.val1 + 1 == 0": "integer overflow", "1 / 0 == 1 / 0": "division by zero"},
    )


def test_numbers_are_doubles_even_when_written_as_integers() -> None:
    check({"val7": NUM}, {"val7": 1}, ["type(self.val7) == double", "self.val7 == 1.0"], {})


def test_numeric_comparisons_cross_types() -> None:
    check(
        {"val1": INT, "val4": NUM},
        {"val1": 5, "val4": 10.0},
        ["double(self.val1) < self.val4", "self.val1 < self.val4", "int(self.val4) == 10"],
        {},
    )


def test_strings() -> None:
    check(
        {"s": STR},
        {"s": "Hello, World"},
        [
            "self.s.startsWith('Hello')",
            "self.s.endsWith('World')",
            "self.s.contains(', ')",
            "self.s.matches('^H.*d$')",
            "size(self.s) == 12",
            "self.s.lowerAscii() == 'hello, world'",
            "self.s.upperAscii() == 'HELLO, WORLD'",
            "self.s.split(', ') == ['Hello', 'World']",
            "self.s.replace('World', 'CEL') == 'Hello, CEL'",
            "self.s.substring(7) == 'World'",
            "self.s.substring(0, 5) == 'Hello'",
            "self.s.indexOf('o') == 4",
            "self.s.lastIndexOf('o') == 8",
            "self.s.charAt(1) == 'e'",
            "['a', 'b'].join('-') == 'a-b'",
            "'  x '.trim() == 'x'",
            "self.s.find('[A-Z]') == 'H'",
            "self.s.findAll('o') == ['o', 'o']",
            "self.s + '!' == 'Hello, World!'",
            "r'\\d' == '\\\\d'",
        ],
        {"self.s.substring(20) == ''": "index out of range"},
    )


def test_field_selection_and_has() -> None:
    properties = {
        "a": obj_type(b=INT, c=INT, d={**INT, "nullable": True}),
        "a1": obj_type(b1=obj_type(c1=INT), d2=obj_type(e2=INT)),
    }
    check(
        properties,
        {"a": {"b": 1, "d": None}, "a1": {"b1": {"c1": 1}}},
        [
            "has(self.a.b)",
            "!has(self.a.c)",
            "!has(self.a.d)",
            "has(self.a1.b1.c1)",
            "!has(self.a1.d2)",
        ],
        {"has(self.a1.d2.e2)": "no such key: d2"},
    )


def test_map_access() -> None:
    check(
        {"val": {"type": "object", "additionalProperties": INT}},
        {"val": {"b": 1, "d": 2}},
        [
            "!('a' in self.val)",
            "'b' in self.val",
            "has(self.val.b)",
            "!has(self.val.c)",
            "self.val.all(k, self.val[k] > 0)",
            "self.val.exists(k, self.val[k] > 1)",
            "self.val.exists_one(k, self.val[k] == 2)",
            "!self.val.exists_one(k, self.val[k] > 0)",
            "size(self.val) == 2",
            "self.val.map(k, self.val[k]).exists(v, v == 1)",
            "size(self.val.filter(k, self.val[k] > 1)) == 1",
        ],
        {"self.val['c'] == 1": "no such key: c"},
    )


def test_list_map_comprehensions_and_their_errors() -> None:
    list_map = {
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["k"],
        "items": obj_type(k=STR, v=STR, v2=STR),
    }
    check(
        {"listMap": list_map},
        {
            "listMap": [
                {"k": "a1", "v": "b1"},
                {"k": "a2", "v": "b2"},
                {"k": "a3", "v": "b3", "v2": "z"},
            ]
        },
        [
            "has(self.listMap[0].v)",
            "self.listMap.all(m, m.k.startsWith('a'))",
            "self.listMap.all(m, !has(m.v2) || m.v2 == 'z')",
            "self.listMap.exists_one(m, m.k == 'a3')",
            "self.listMap.map(m, m.v).exists(v, v == 'b1')",
            "self.listMap.map(m, has(m.v2) && m.v2 == 'z', m.v2).size() == 1",
            "self.listMap.exists(m, m.v2 == 'z')",
            "!self.listMap.all(m, m.v2 != 'z')",
        ],
        {
            "self.listMap.all(m, m.v2 == 'z')": "no such key: v2",
            "self.listMap.exists_one(m, m.v2 == 'z')": "no such key: v2",
            "self.listMap.filter(m, m.v2 == 'z').size() == 1": "no such key: v2",
            "self.listMap.map(m, m.v2).size() == 1": "no such key: v2",
        },
    )


def test_list_access() -> None:
    check(
        {"array": {"type": "array", "items": INT}},
        {"array": [1, 1, 2, 2, 3, 3, 4, 5]},
        [
            "2 in self.array",
            "self.array.exists_one(e, e > 4)",
            "!self.array.exists_one(e, e == 2)",
            "size(self.array.filter(e, e%2 == 0)) == 3",
            "self.array.map(e, e * 20).filter(e, e > 50).exists(e, e == 60)",
            "self.array.isSorted()",
            "self.array.sum() == 21",
            "self.array.min() == 1 && self.array.max() == 5",
            "self.array.indexOf(2) == 2 && self.array.lastIndexOf(2) == 3",
        ],
        {"self.array[100] == 0": "index out of bounds: 100"},
    )


def test_type_and_object_meta_of_the_root() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "foo", "generateName": "pickItForMe", "namespace": "xyz"},
        "spec": {"field1": "a"},
    }
    check(
        {"spec": obj_type(field1=STR)},
        obj,
        [
            "self.kind == 'Pod'",
            "self.apiVersion == 'v1'",
            "self.metadata.name == 'foo'",
            "self.spec.field1 == 'a'",
        ],
        {"has(self.metadata.namespace)": "undefined field 'namespace'"},
        root=True,
    )


def test_embedded_objects_with_reserved_words() -> None:
    embedded = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "properties": {
            "kind": STR,
            "apiVersion": STR,
            "metadata": obj_type(name=STR, generateName=STR, namespace=STR),
            "spec": obj_type(**{"if": STR}),
        },
    }
    obj = {
        "embedded": {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "foo", "namespace": "reserved_keyword_namespace"},
            "spec": {"if": "reserved_keyword_if"},
        }
    }
    check(
        {"embedded": embedded},
        obj,
        [
            "has(self.embedded.metadata.namespace)",
            "self.embedded.metadata.namespace == 'reserved_keyword_namespace'",
            "self.embedded.metadata.__namespace__ == 'reserved_keyword_namespace'",
            "self.embedded.spec.if == 'reserved_keyword_if'",
        ],
        {},
    )


def test_escaped_property_names() -> None:
    check(
        {"dash-name": STR, "dot.name": STR, "under__score": STR},
        {"dash-name": "a", "dot.name": "b", "under__score": "c"},
        [
            "self.dash__dash__name == 'a'",
            "self.dot__dot__name == 'b'",
            "self.under__underscores__score == 'c'",
        ],
        {},
    )


def test_optionals() -> None:
    check(
        {"a": obj_type(b=STR), "m": {"type": "object", "additionalProperties": STR}},
        {"a": {}, "m": {"k": "v"}},
        [
            "self.a.?b.orValue('none') == 'none'",
            "!self.a.?b.hasValue()",
            "self.m[?'k'] == optional.of('v')",
            "self.m[?'x'].orValue('d') == 'd'",
            "optional.none().orValue(1) == 1",
        ],
        {"self.a.?b.value() == 'x'": "optional.none() dereference"},
    )


def test_timestamps_and_durations_from_formats() -> None:
    check(
        {
            "t": {"type": "string", "format": "date-time"},
            "d": {"type": "string", "format": "duration"},
        },
        {"t": "2024-01-02T03:04:05Z", "d": "1h30m"},
        [
            "self.t < timestamp('2025-01-01T00:00:00Z')",
            "self.t + duration('1h') == timestamp('2024-01-02T04:04:05Z')",
            "self.d > duration('1h')",
            "timestamp('2024-01-02T03:04:05Z') - self.t == duration('0s')",
            "string(self.d) == '5400s'",
        ],
        {},
    )


def test_logic_absorbs_errors_as_cel_does() -> None:
    check(
        {"a": obj_type(b=STR)},
        {"a": {}},
        [
            "false || true",
            "self.a.b == 'x' || true",
            "!(self.a.b == 'x' && false)",
            "true ? true : self.a.b == ''",
        ],
        {"self.a.b == 'x' || false": "no such key: b"},
    )
