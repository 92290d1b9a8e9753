"""The OpenAPI definitions a custom resource's version publishes, v2 and v3. Cases from
apiextensions-apiserver pkg/controller/openapi/builder/builder_test.go (TestNewBuilder, with
TypeMeta and ObjectMeta descriptions wiped as that test wipes them) and v2/conversion_test.go."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from podplane.apimachinery.openapi.schemas import Dialect
from podplane.apimachinery.structural.openapi_publishing import (
    OBJECT_METADATA,
    definition_name,
    definitions,
    kind_schema,
)
from podplane.apimachinery.structural.props import decode_props
from podplane.apimachinery.structural.schema import new_structural

GVK = [{"group": "bar.k8s.io", "kind": "Foo", "version": "v1"}]
OBJECT_META_V2 = {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}


def published(schema: dict[str, Any] | None, dialect: Dialect) -> dict[str, Any]:
    s = new_structural(decode_props(schema)) if schema is not None else None
    out = copy.deepcopy(kind_schema(s, "bar.k8s.io", "v1", "Foo", dialect))
    for name in ("kind", "apiVersion", "metadata"):
        out.get("properties", {}).get(name, {}).pop("description", None)
    return out


def test_type_only() -> None:
    assert published({"type": "object"}, Dialect.V2) == {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": OBJECT_META_V2,
        },
        "x-kubernetes-group-version-kind": GVK,
    }


@pytest.mark.parametrize(
    "schema", [None, {"type": "object", "x-kubernetes-preserve-unknown-fields": True}]
)
def test_anything_at_the_root_is_an_object_in_v2(schema: dict[str, Any] | None) -> None:
    assert published(schema, Dialect.V2) == {
        "type": "object",
        "x-kubernetes-group-version-kind": GVK,
    }


INT_OR_STRING = {
    "x-kubernetes-int-or-string": True,
    "anyOf": [{"type": "integer"}, {"type": "string"}],
}
EXTENSIONS = {
    "type": "object",
    "properties": {
        "int-or-string-1": INT_OR_STRING,
        "int-or-string-2": {
            "x-kubernetes-int-or-string": True,
            "allOf": [
                {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                {"anyOf": [{"minimum": 42.0}]},
            ],
        },
        "int-or-string-4": {"x-kubernetes-int-or-string": True, "anyOf": [{"minimum": 42.0}]},
        "int-or-string-6": {"x-kubernetes-int-or-string": True},
        "preserve-unknown-fields": {"x-kubernetes-preserve-unknown-fields": True},
        "embedded-object": {
            "x-kubernetes-embedded-resource": True,
            "x-kubernetes-preserve-unknown-fields": True,
            "type": "object",
        },
    },
}


def test_extensions_in_v2() -> None:
    assert published(EXTENSIONS, Dialect.V2) == {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": OBJECT_META_V2,
            "int-or-string-1": {"x-kubernetes-int-or-string": True},
            "int-or-string-2": {"x-kubernetes-int-or-string": True},
            "int-or-string-4": {"x-kubernetes-int-or-string": True},
            "int-or-string-6": {"x-kubernetes-int-or-string": True},
            "preserve-unknown-fields": {"x-kubernetes-preserve-unknown-fields": True},
            "embedded-object": {
                "x-kubernetes-embedded-resource": True,
                "x-kubernetes-preserve-unknown-fields": True,
            },
        },
        "x-kubernetes-group-version-kind": GVK,
    }


def test_v3_keeps_what_v2_drops() -> None:
    out = published(EXTENSIONS, Dialect.V3)
    properties = out["properties"]
    assert properties["int-or-string-6"] == {
        "x-kubernetes-int-or-string": True,
        "anyOf": [{"type": "integer"}, {"type": "string"}],
    }
    assert properties["int-or-string-4"]["allOf"] == [
        {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    ]
    embedded = properties["embedded-object"]
    assert embedded["type"] == "object"
    assert set(embedded["properties"]) == {"apiVersion", "kind", "metadata"}
    assert embedded["required"] == ["kind", "apiVersion"]
    assert embedded["properties"]["metadata"] == {
        "allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
        "description": OBJECT_METADATA,
    }


def test_nullable_fields_lose_their_type_and_requiredness_in_v2() -> None:
    schema = {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "nullable": True,
                "description": "The spec.",
                "properties": {"a": {"type": "string", "description": "A field."}},
            },
            "list": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        },
    }
    v2 = published(schema, Dialect.V2)
    assert v2["properties"]["spec"] == {"description": "The spec."}
    assert "required" not in v2
    v3 = published(schema, Dialect.V3)
    assert v3["required"] == ["spec"]
    assert v3["properties"]["spec"]["nullable"] is True
    assert v3["properties"]["spec"]["properties"]["a"] == {
        "type": "string",
        "description": "A field.",
    }
    assert v3["properties"]["list"]["x-kubernetes-list-type"] == "set"


def test_names_and_the_list_kind() -> None:
    s = new_structural(decode_props({"type": "object"}))
    out = definitions(
        s, "stable.example.com", "v1", "CronTab", "CronTabList", "crontabs", Dialect.V3
    )
    assert list(out) == ["com.example.stable.v1.CronTab", "com.example.stable.v1.CronTabList"]
    listed = out["com.example.stable.v1.CronTabList"]
    assert listed["description"] == "CronTabList is a list of CronTab"
    assert listed["required"] == ["items"]
    assert listed["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/com.example.stable.v1.CronTab"
    }
    assert listed["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTabList", "version": "v1"}
    ]
    assert definition_name("bar.k8s.io", "v1", "Foo") == "io.k8s.bar.v1.Foo"
