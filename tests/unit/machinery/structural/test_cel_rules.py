"""x-kubernetes-validations: rules compiled when the CRD is created (refused with Kubernetes'
field paths and cel-go's messages) and evaluated on creates and updates with Kubernetes'
messages, reasons, field paths, transition rules and ratcheting (apiextensions-apiserver
pkg/apiserver/schema/cel/validation.go and compilation.go)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from podplane.apimachinery.structural.crd_schema import validate_schema
from podplane.apimachinery.structural.custom_resource import CustomResourceSchema

P = "spec.versions[0].schema.openAPIV3Schema"


def crd(
    spec_rules: list[dict[str, Any]], root_rules: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "replicas": {"type": "integer"},
                    "maxReplicas": {"type": "integer"},
                    "name": {"type": "string"},
                    "mode": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "x-kubernetes-validations": spec_rules,
            }
        },
    }
    if root_rules:
        schema["x-kubernetes-validations"] = root_rules
    return schema


def cr(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Foo", "metadata": {"name": "a"}, "spec": spec}


def errors(
    schema: dict[str, Any], obj: dict[str, Any], old: dict[str, Any] | None = None
) -> list[str]:
    assert validate_schema(schema, P) == []
    return [str(e) for e in CustomResourceSchema.from_json(schema).validate(obj, old)]


# ------------------------------------------------------------------ at CRD creation
def test_a_rule_naming_an_unknown_field_is_refused() -> None:
    (err,) = validate_schema(crd([{"rule": "self.foo > 0"}]), P)
    assert str(err) == (
        f"{P}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: "
        'apiextensions.ValidationRule{Rule:"self.foo > 0", Message:"", MessageExpression:"", '
        'Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", '
        "OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:5: undefined "
        "field 'foo'\n | self.foo > 0\n | ....^"
    )


@pytest.mark.parametrize(
    "rule, detail",
    [
        (
            "self.replicas + self.name",
            "found no matching overload for '_+_' applied to '(int, string)'",
        ),
        ("self.replicas", "cel expression must evaluate to a bool"),
        (
            "undefinedFunction(self.name)",
            "undeclared reference to 'undefinedFunction' (in container '')",
        ),
        ("x > 1", "undeclared reference to 'x' (in container '')"),
        (
            "self.name.startsWith(1)",
            "found no matching overload for 'startsWith' applied to 'string.(int)'",
        ),
        ("self.replicas >", "Syntax error"),
        (
            "quantity(self.name).isGreaterThan(quantity('1'))",
            "podplane does not support the CEL function 'quantity'",
        ),
    ],
)
def test_rules_that_do_not_compile(rule: str, detail: str) -> None:
    (err,) = validate_schema(crd([{"rule": rule}]), P)
    assert err.path == f"{P}.properties[spec].x-kubernetes-validations[0].rule"
    assert detail in err.detail


def test_message_expression_must_be_a_string() -> None:
    (err,) = validate_schema(crd([{"rule": "true", "messageExpression": "self.replicas"}]), P)
    assert err.path.endswith("x-kubernetes-validations[0].messageExpression")
    assert err.detail == "messageExpression must evaluate to a string"


def test_old_self_only_where_values_correlate() -> None:
    schema = crd([])
    schema["properties"]["spec"]["properties"]["tags"]["items"]["x-kubernetes-validations"] = [
        {"rule": "self == oldSelf"}
    ]
    (err,) = validate_schema(schema, P)
    assert str(err) == (
        f"{P}.properties[spec].properties[tags].items.x-kubernetes-validations[0].rule: Invalid "
        'value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the '
        f"schema within {P}.properties[spec].properties[tags]"
    )


def test_optional_old_self_needs_old_self() -> None:
    (err,) = validate_schema(crd([{"rule": "self.replicas > 0", "optionalOldSelf": True}]), P)
    assert err.path.endswith("x-kubernetes-validations[0].optionalOldSelf")
    assert err.detail == "may not be set if oldSelf is not used in rule"


def test_field_path_must_name_a_field() -> None:
    (err,) = validate_schema(crd([{"rule": "true", "fieldPath": ".nope"}]), P)
    assert (err.path.endswith("x-kubernetes-validations[0].fieldPath"), err.detail) == (
        True,
        "fieldPath must be a valid path",
    )
    assert validate_schema(crd([{"rule": "true", "fieldPath": ".labels['a.b']"}]), P) == []


# ------------------------------------------------------------------ on writes
def test_a_failed_rule_names_the_value_s_type_and_the_rule() -> None:
    schema = crd([{"rule": "self.replicas <= self.maxReplicas"}])
    assert errors(schema, cr(replicas=2, maxReplicas=3)) == []
    assert errors(schema, cr(replicas=4, maxReplicas=3)) == [
        'spec: Invalid value: "object": failed rule: self.replicas <= self.maxReplicas'
    ]


def test_message_message_expression_reason_and_field_path() -> None:
    schema = crd(
        [
            {"rule": "self.replicas > 0", "message": "replicas must be positive"},
            {
                "rule": "self.name.size() < 5",
                "messageExpression": "'name ' + self.name + ' is too long'",
                "fieldPath": ".name",
            },
            {
                "rule": "has(self.mode)",
                "message": "mode is required",
                "reason": "FieldValueRequired",
                "fieldPath": ".mode",
            },
            {"rule": "!('x' in self.tags)", "reason": "FieldValueForbidden", "message": "no x"},
        ]
    )
    assert errors(schema, cr(replicas=0, name="toolong", tags=["x"])) == [
        'spec: Invalid value: "object": replicas must be positive',
        'spec.name: Invalid value: "object": name toolong is too long',
        "spec.mode: Required value: mode is required",
        "spec: Forbidden: no x",
    ]


def test_root_rules_are_at_go_s_nil_path_and_see_metadata() -> None:
    schema = crd([], root_rules=[{"rule": "self.metadata.name.startsWith('x')"}])
    assert errors(schema, cr()) == [
        "<nil>: Invalid value: \"object\": failed rule: self.metadata.name.startsWith('x')"
    ]


def test_evaluation_errors() -> None:
    schema = crd([{"rule": "self.name == 'a'"}])
    assert errors(schema, cr()) == [
        "spec: Invalid value: \"object\": no such key: name evaluating rule: self.name == 'a'"
    ]


def test_transition_rules_run_on_updates_only() -> None:
    schema = crd([{"rule": "self.name == oldSelf.name", "message": "name is immutable"}])
    assert errors(schema, cr(name="a")) == []
    assert errors(schema, cr(name="b"), old=cr(name="a")) == [
        'spec: Invalid value: "object": name is immutable'
    ]


def test_optional_old_self_runs_on_create() -> None:
    schema = crd([{"rule": "oldSelf.hasValue() || self.replicas == 1", "optionalOldSelf": True}])
    assert errors(schema, cr(replicas=2)) == [
        'spec: Invalid value: "object": failed rule: oldSelf.hasValue() || self.replicas == 1'
    ]
    assert errors(schema, cr(replicas=2), old=cr(replicas=1)) == []


def test_unchanged_values_are_not_held_to_new_rules() -> None:
    schema = crd([{"rule": "self.replicas < 10"}])
    old = cr(replicas=20, name="a")
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"x": "y"}
    assert errors(schema, new, old) == []
    new["spec"]["replicas"] = 30
    assert errors(schema, new, old) == [
        'spec: Invalid value: "object": failed rule: self.replicas < 10'
    ]


def test_rules_wait_for_schema_errors_to_be_fixed() -> None:
    schema = crd([{"rule": "self.replicas > 0"}])
    schema["properties"]["spec"]["required"] = ["name"]
    assert errors(schema, cr(replicas=0)) == [
        "spec.name: Required value",
        '<nil>: Invalid value: "null": some validation rules were not checked because the object '
        "was invalid; correct the existing errors to complete validation",
    ]


def test_rules_apply_to_defaults_at_crd_creation() -> None:
    schema = crd([])
    schema["properties"]["spec"]["properties"]["replicas"].update(
        {"default": 0, "x-kubernetes-validations": [{"rule": "self > 0"}]}
    )
    (err,) = validate_schema(schema, P)
    assert str(err) == (
        f'{P}.properties[spec].properties[replicas].default: Invalid value: "integer": failed '
        "rule: self > 0"
    )
