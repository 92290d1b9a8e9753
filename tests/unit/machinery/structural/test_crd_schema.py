"""A CRD version's openAPIV3Schema checked as kube-apiserver checks it on create: structural,
valid defaults, the OpenAPI rules CRDs have. Cases from apiextensions-apiserver
pkg/apis/apiextensions/validation/validation_test.go (TestValidateCustomResourceDefinition,
which matches errors by path and type) and pkg/apiserver/schema/validation_test.go."""

from __future__ import annotations

import re
from typing import Any

import pytest

from podplane.apimachinery.structural.crd_schema import validate_schema
from podplane.apimachinery.structural.field import FieldError
from podplane.apimachinery.structural.props import SchemaDecodeError

P = "spec.versions[0].schema.openAPIV3Schema"


def messages(schema: dict[str, Any], **kwargs: Any) -> list[str]:
    return [str(e) for e in validate_schema(schema, P, **kwargs)]


def matches(errors: list[FieldError]) -> set[tuple[str, str]]:
    return {(e.path.removeprefix(P), e.label) for e in errors}


def spec(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"spec": {"type": "object", "properties": properties}}}


def test_a_valid_operator_schema_passes() -> None:
    schema = spec(
        replicas={"type": "integer", "minimum": 0, "default": 1, "description": "How many."},
        image={"type": "string", "pattern": "^[a-z0-9./:-]+$"},
        ports={
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
            },
        },
        tags={"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        labels={"type": "object", "additionalProperties": {"type": "string"}},
        size={
            "x-kubernetes-int-or-string": True,
            "anyOf": [{"type": "integer"}, {"type": "string"}],
        },
        template={
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "x-kubernetes-preserve-unknown-fields": True,
        },
    )
    schema["properties"]["status"] = {
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert messages(schema, status_enabled=True) == []


@pytest.mark.parametrize(
    "schema, expected",
    [
        (
            spec(a={"properties": {}}),
            P + ".properties[spec].properties[a].type: Required value: must not be empty for "
            "specified object fields",
        ),
        (
            {"properties": {"spec": {"type": "object"}}},
            P + ".type: Required value: must not be empty at the root",
        ),
        ({"type": "string"}, P + '.type: Invalid value: "string": must be object at the root'),
        (
            spec(a={"type": "array"}),
            P + ".properties[spec].properties[a].items: Required value: must be specified",
        ),
        (
            spec(a={"type": "array", "items": {}}),
            P + ".properties[spec].properties[a].items.type: Required value: must not be empty for "
            "specified array items",
        ),
        (
            {"type": "object", "additionalProperties": {"type": "string"}},
            P + ".additionalProperties: Forbidden: must not be used at the root",
        ),
        (
            spec(a={"type": "string", "anyOf": [{"type": "string"}]}),
            P + ".properties[spec].properties[a].anyOf[0].type: Forbidden: must be empty to be "
            "structural",
        ),
        (
            spec(a={"type": "string", "allOf": [{"description": "x"}]}),
            P + ".properties[spec].properties[a].allOf[0].description: Forbidden: must be empty to "
            "be structural",
        ),
        (
            spec(a={"type": "string", "oneOf": [{"nullable": True}]}),
            P + ".properties[spec].properties[a].oneOf[0].nullable: Forbidden: must be false to be "
            "structural",
        ),
        (
            spec(a={"type": "string", "not": {"default": "x"}}),
            P + ".properties[spec].properties[a].not.default: Forbidden: must be undefined to be "
            "structural",
        ),
        (
            spec(a={"type": "object", "anyOf": [{"properties": {"b": {"type": "string"}}}]}),
            P + ".properties[spec].properties[a].anyOf[0].properties[b].type: Forbidden: must be "
            "empty to be structural",
        ),
        # Completeness is checked at the root's junctors, as complete.go does.
        (
            {"type": "object", "anyOf": [{"properties": {"b": {"maxLength": 1}}}]},
            P
            + ".properties[b]: Required value: because it is defined in "
            + P
            + ".anyOf[0].properties[b]",
        ),
        (
            {"type": "object", "allOf": [{"items": {"maxLength": 1}}]},
            P + ".items: Required value: because it is defined in " + P + ".allOf[0].items",
        ),
        (
            spec(a={"type": "object", "x-kubernetes-embedded-resource": True}),
            P + ".properties[spec].properties[a].properties: Required value: must not be empty if "
            "x-kubernetes-embedded-resource is true without "
            "x-kubernetes-preserve-unknown-fields",
        ),
        (
            spec(
                a={
                    "type": "string",
                    "x-kubernetes-embedded-resource": True,
                    "x-kubernetes-preserve-unknown-fields": True,
                }
            ),
            P + '.properties[spec].properties[a].type: Invalid value: "string": must be object if '
            "x-kubernetes-embedded-resource is true",
        ),
        (
            spec(
                a={"x-kubernetes-int-or-string": True, "x-kubernetes-preserve-unknown-fields": True}
            ),
            P + ".properties[spec].properties[a].x-kubernetes-preserve-unknown-fields: Invalid "
            "value: true: must be false if x-kubernetes-int-or-string is true",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}
                },
            },
            P + ".properties[metadata]: Forbidden: must not specify anything other than name and "
            "generateName, but metadata is implicitly specified",
        ),
        (
            {"type": "object", "properties": {"kind": {"type": "integer"}}},
            P + '.properties[kind].type: Invalid value: "integer": must be string',
        ),
        (
            spec(a={"type": "string", "pattern": "(abc"}),
            P + '.properties[spec].properties[a].pattern: Invalid value: "(abc": must be a valid '
            "regular expression, but isn't: error parsing regexp: missing closing ): `(abc`",
        ),
    ],
)
def test_structural_schema_rules(schema: dict[str, Any], expected: str) -> None:
    assert messages(schema) == [expected]


def test_metadata_may_restrict_name_and_generate_name_only() -> None:
    schema = {
        "type": "object",
        "properties": {
            "metadata": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "maxLength": 10},
                    "generateName": {"type": "string"},
                },
            }
        },
    }
    assert messages(schema) == []


@pytest.mark.parametrize(
    "schema, expected",
    [
        ({"type": "object", "$ref": "#/definitions/x"}, (".$ref", "Forbidden")),
        ({"type": "object", "id": "x"}, (".id", "Forbidden")),
        (
            {"type": "object", "definitions": {"x": {"type": "string"}}},
            (".definitions", "Forbidden"),
        ),
        (
            {"type": "object", "patternProperties": {"^a": {"type": "string"}}},
            (".patternProperties", "Forbidden"),
        ),
        ({"type": "object", "dependencies": {"a": ["b"]}}, (".dependencies", "Forbidden")),
        ({"type": "object", "additionalItems": False}, (".additionalItems", "Forbidden")),
        ({"type": "object", "uniqueItems": True}, (".uniqueItems", "Forbidden")),
        (spec(a={"type": "null"}), (".properties[spec].properties[a].type", "Unsupported value")),
        (
            spec(a={"type": "array", "items": [{"type": "string"}]}),
            (".properties[spec].properties[a].items", "Forbidden"),
        ),
        (
            spec(
                a={
                    "type": "object",
                    "properties": {"b": {"type": "string"}},
                    "additionalProperties": {"type": "string"},
                }
            ),
            (".properties[spec].properties[a].additionalProperties", "Forbidden"),
        ),
        (
            spec(a={"type": "object", "x-kubernetes-map-type": "x"}),
            (".properties[spec].properties[a].x-kubernetes-map-type", "Unsupported value"),
        ),
        (
            spec(a={"type": "string", "x-kubernetes-map-type": "atomic"}),
            (".properties[spec].properties[a].type", "Invalid value"),
        ),
        (
            spec(a={"type": "string", "x-kubernetes-list-type": "set"}),
            (".properties[spec].properties[a].type", "Invalid value"),
        ),
        (
            spec(a={"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "bag"}),
            (".properties[spec].properties[a].x-kubernetes-list-type", "Unsupported value"),
        ),
        (
            spec(
                a={
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-list-map-keys": ["a"],
                }
            ),
            (".properties[spec].properties[a].x-kubernetes-list-type", "Required value"),
        ),
        (
            spec(
                a={
                    "type": "array",
                    "items": {"type": "object", "properties": {"k": {"type": "string"}}},
                    "x-kubernetes-list-type": "map",
                }
            ),
            (".properties[spec].properties[a].x-kubernetes-list-map-keys", "Required value"),
        ),
        (
            spec(
                a={
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["a"],
                }
            ),
            (".properties[spec].properties[a].items.type", "Invalid value"),
        ),
        (
            spec(
                a={
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["k"],
                        "properties": {"k": {"type": "string"}},
                    },
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["b"],
                }
            ),
            (".properties[spec].properties[a].x-kubernetes-list-map-keys", "Invalid value"),
        ),
        (
            spec(
                a={
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"k": {"type": "object"}},
                        "required": ["k"],
                    },
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["k"],
                }
            ),
            (".properties[spec].properties[a].items.properties[k].type", "Invalid value"),
        ),
        (
            spec(
                a={
                    "type": "array",
                    "items": {"type": "object", "properties": {"k": {"type": "string"}}},
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["k"],
                }
            ),
            (".properties[spec].properties[a].items.properties[k].default", "Required value"),
        ),
        (
            spec(a={"type": "array", "items": {"type": "object"}, "x-kubernetes-list-type": "set"}),
            (".properties[spec].properties[a].items.x-kubernetes-map-type", "Invalid value"),
        ),
        (
            spec(
                a={
                    "type": "array",
                    "items": {"type": "string", "nullable": True},
                    "x-kubernetes-list-type": "set",
                }
            ),
            (".properties[spec].properties[a].items.nullable", "Forbidden"),
        ),
        ({"type": "object", "nullable": True}, (".nullable", "Forbidden")),
        (
            {"type": "object", "properties": {"metadata": {"type": "object", "default": {}}}},
            (".properties[metadata].default", "Forbidden"),
        ),
        (
            {
                "type": "object",
                "properties": {
                    "e": {
                        "type": "object",
                        "x-kubernetes-embedded-resource": True,
                        "x-kubernetes-preserve-unknown-fields": True,
                        "properties": {
                            "metadata": {
                                "type": "object",
                                "properties": {
                                    "annotations": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string", "default": "x"},
                                    }
                                },
                            }
                        },
                    }
                },
            },
            (
                ".properties[e].properties[metadata].properties[annotations].additionalProperties.default",
                "Forbidden",
            ),
        ),
    ],
)
def test_openapi_rules(schema: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in matches(validate_schema(schema, P))


def test_rule_statics() -> None:
    schema = spec(
        a={
            "type": "string",
            "x-kubernetes-validations": [
                {"rule": " "},
                {"rule": "self.size() > 1", "message": " "},
                {"rule": "self.size() >\n 1", "reason": "FieldValueBad"},
            ],
        }
    )
    got = matches(validate_schema(schema, P))
    rules = ".properties[spec].properties[a].x-kubernetes-validations"
    assert {
        (f"{rules}[0].rule", "Required value"),
        (f"{rules}[1].message", "Invalid value"),
        (f"{rules}[2].message", "Required value"),
        (f"{rules}[2].reason", "Unsupported value"),
    } <= got


# ------------------------------------------------------------------ defaults
@pytest.mark.parametrize(
    "prop, expected",
    [
        (
            {"type": "integer", "default": "x"},
            '.default: Invalid value: "string":  in body must be of type integer: "string"',
        ),
        (
            {"type": "string", "enum": ["a"], "default": "b"},
            '.default: Unsupported value: "b": supported values: "a"',
        ),
        (
            {
                "type": "object",
                "properties": {"b": {"type": "string"}},
                "default": {"b": "x", "c": 1},
            },
            '.default: Invalid value: map[string]interface {}{"b":"x", "c":1}: must not have '
            "unknown fields",
        ),
        (
            {"type": "object", "properties": {"b": {"type": "integer"}}, "default": {"b": "x"}},
            '.default.b: Invalid value: "string": b in body must be of type integer: "string"',
        ),
        (
            {
                "type": "object",
                "properties": {"b": {"type": "string"}},
                "required": ["b"],
                "default": {},
            },
            ".default.b: Required value",
        ),
    ],
)
def test_defaults_must_be_pruned_and_valid(prop: dict[str, Any], expected: str) -> None:
    assert messages(spec(a=prop)) == [f"{P}.properties[spec].properties[a]{expected}"]


def test_defaults_under_preserve_unknown_fields_may_have_unknown_fields() -> None:
    prop = {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "default": {"x": 1}}
    assert messages(spec(a=prop)) == []


def test_embedded_resource_defaults_need_type_meta() -> None:
    prop = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "x-kubernetes-preserve-unknown-fields": True,
        "default": {"metadata": {"name": "bar"}},
    }
    assert matches(validate_schema(spec(a=prop), P)) == {
        (".properties[spec].properties[a].default.apiVersion", "Required value"),
        (".properties[spec].properties[a].default.kind", "Required value"),
    }


def test_embedded_resource_default_with_malformed_metadata() -> None:
    prop = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "x-kubernetes-preserve-unknown-fields": True,
        "default": {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": "x"}},
    }
    assert messages(spec(a=prop)) == [
        f"{P}.properties[spec].properties[a].default.metadata: Invalid value: "
        'map[string]interface {}{"labels":"x"}: json: cannot unmarshal string into Go struct '
        "field ObjectMeta.labels of type map[string]string"
    ]


def test_metadata_defaults_of_embedded_resources_are_checked_in_the_resource() -> None:
    prop = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string", "default": 5},
            "metadata": {
                "type": "object",
                "properties": {"name": {"type": "string", "enum": ["foo"], "default": "bar"}},
            },
        },
    }
    got = matches(validate_schema(spec(a=prop), P))
    assert (".properties[spec].properties[a].properties[kind].default", "Invalid value") in got
    assert (
        ".properties[spec].properties[a].properties[metadata].properties[name].default",
        "Unsupported value",
    ) in got


def test_meta_validator_hook_checks_default_metadata() -> None:
    def names_are_lowercase(meta: dict[str, Any], namespaced: bool, path: str) -> list[FieldError]:
        from podplane.apimachinery.structural.field import invalid

        name = meta.get("name", "")
        return [] if name == name.lower() else [invalid(f"{path}.name", name, "must be lowercase")]

    prop = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "x-kubernetes-preserve-unknown-fields": True,
        "default": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "Bad"}},
    }
    assert messages(spec(a=prop), meta_validator=names_are_lowercase) == [
        f'{P}.properties[spec].properties[a].default.metadata.name: Invalid value: "Bad": must be '
        "lowercase"
    ]


# ------------------------------------------------------------------ status and decoding
def test_status_subresource_limits_the_root() -> None:
    assert messages(
        {"type": "object", "nullable": False, "anyOf": [{"required": ["spec"]}]},
        status_enabled=True,
    )[0].endswith(
        "fields are allowed at the root of the schema if the status subresource is enabled"
    )


def test_json_of_the_wrong_type_is_a_decoding_error() -> None:
    with pytest.raises(
        SchemaDecodeError,
        match=re.escape(
            "cannot unmarshal string into Go struct field JSONSchemaProps.properties.maxLength "
            "of type int64"
        ),
    ):
        validate_schema(
            {"type": "object", "properties": {"a": {"type": "string", "maxLength": "3"}}}, P
        )
    with pytest.raises(SchemaDecodeError, match="boolean or JSON schema expected"):
        validate_schema({"type": "object", "additionalProperties": "x"}, P)
