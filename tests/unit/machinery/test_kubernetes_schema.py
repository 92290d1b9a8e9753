"""The served schema against Kubernetes 1.31's own: every field of every kind podplane serves, with
the same shape (list, map, object, scalar), list type, patch strategy and required fields, and the
fields Kubernetes always sends written by the encoder even when empty. Kubernetes' definitions come
from the 1.31 OpenAPI that PyPI's kubernetes-validate 1.31.0 ships (its v1.31.0-local schemas)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources as package_files
from typing import Any

import pytest
from google.protobuf import message_factory

from podplane.apimachinery import codec, resources
from podplane.apimachinery.openapi import documents, jsonschemaprops
from podplane.apimachinery.openapi.schemas import messages
from podplane.apimachinery.resources import CreateOnlyResource, Resource

_GROUP_PACKAGES = {
    "": "core",
    "rbac.authorization.k8s.io": "rbac",
    "coordination.k8s.io": "coordination",
    "discovery.k8s.io": "discovery",
    "storage.k8s.io": "storage",
    "authorization.k8s.io": "authorization",
    "authentication.k8s.io": "authentication",
    "scheduling.k8s.io": "scheduling",
    "node.k8s.io": "node",
    "certificates.k8s.io": "certificates",
    "admissionregistration.k8s.io": "admissionregistration",
    "networking.k8s.io": "networking",
    "events.k8s.io": "events",
    "flowcontrol.apiserver.k8s.io": "flowcontrol",
}
_REF_PREFIX = "#/$defs/"
# Named scalars: served as references to the same names Kubernetes uses.
_SCALAR_REFS = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
}


@cache
def kubernetes_definitions() -> dict[str, Any]:
    folder = package_files.files("kubernetes_validate") / "kubernetes-json-schema"
    text = (folder / "v1.31.0-local" / "_definitions.json").read_text()
    definitions: dict[str, Any] = json.loads(text)["$defs"]
    return definitions


@cache
def served_definitions() -> dict[str, Any]:
    served: dict[str, Any] = documents.v2_document()["definitions"]
    return served


# Kinds outside k8s.io/api, by group: their Go packages name them.
_OTHER_PACKAGES = {
    "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
    "apiregistration.k8s.io": "io.k8s.kube-aggregator.pkg.apis.apiregistration",
}
# Definitions no proto message declares (written as OpenAPI, the schema of a CRD version held
# as its JSON): openapi/jsonschemaprops.py.
_WRITTEN = frozenset(jsonschemaprops.DEFINITIONS)


def definition_of(r: Resource | CreateOnlyResource) -> str:
    group, _, version = r.api_version.rpartition("/")
    if group in _OTHER_PACKAGES:
        return f"{_OTHER_PACKAGES[group]}.{version}.{r.kind}"
    return f"io.k8s.api.{_GROUP_PACKAGES.get(group, group)}.{version}.{r.kind}"


def _ref(schema: dict[str, Any]) -> str | None:
    for candidate in (schema, schema.get("items") or {}, schema.get("additionalProperties") or {}):
        ref = candidate.get("$ref") or next(
            (a["$ref"] for a in candidate.get("allOf", []) if "$ref" in a), None
        )
        if ref:
            return str(ref).rpartition("/")[2]
    return None


def _shape(schema: dict[str, Any]) -> str:
    """array, map, object (a named type) or the JSON type of a scalar."""
    if "items" in schema or "array" in schema.get("type", ()):
        return "array"
    if "additionalProperties" in schema:
        return "map"
    ref = _ref(schema)
    if ref is not None:
        return "scalar" if ref in _SCALAR_REFS else "object"
    kind = schema.get("type")
    kind = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
    scalars = {"integer", "string", "boolean", "number"}
    return "scalar" if kind in scalars else str(kind)


def reachable(root: str) -> list[str]:
    """The definitions a kind's definition reaches in Kubernetes' schema, meta types excepted."""
    k8s = kubernetes_definitions()
    seen: list[str] = []
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen or name.startswith("io.k8s.apimachinery"):
            continue
        seen.append(name)
        for prop in k8s[name].get("properties", {}).values():
            ref = _ref(prop)
            if ref:
                todo.append(ref)
    return seen


KINDS = {definition_of(r): r for r in resources.SERVED}
ALL_REACHED = sorted({name for kind in KINDS for name in reachable(kind)})


def test_every_served_kind_is_a_kubernetes_1_31_kind() -> None:
    assert sorted(k for k in KINDS if k not in kubernetes_definitions()) == []


@pytest.mark.parametrize("definition", ALL_REACHED)
def test_every_kubernetes_field_is_served_with_its_shape(definition: str) -> None:
    theirs = kubernetes_definitions()[definition]
    ours = served_definitions().get(definition)
    assert ours is not None, f"{definition} is not served"
    missing = sorted(set(theirs.get("properties", {})) - set(ours.get("properties", {})))
    assert missing == []
    for name, prop in theirs.get("properties", {}).items():
        mine = ours["properties"][name]
        where = f"{definition}.{name}"
        assert _shape(mine) == _shape(prop), where
        if _shape(prop) in ("object", "array", "map") and _ref(prop):
            assert _ref(mine) == _ref(prop), where
        for extension in (
            "x-kubernetes-list-type",
            "x-kubernetes-list-map-keys",
            "x-kubernetes-patch-strategy",
            "x-kubernetes-patch-merge-key",
        ):
            assert mine.get(extension) == prop.get(extension), f"{where} {extension}"


@pytest.mark.parametrize("definition", ALL_REACHED)
def test_required_fields_are_kubernetes_own(definition: str) -> None:
    theirs = kubernetes_definitions()[definition]
    ours = served_definitions()[definition]
    assert sorted(ours.get("required", [])) == sorted(theirs.get("required", []))


@pytest.mark.parametrize("definition", ALL_REACHED)
def test_fields_kubernetes_always_sends_are_written_when_empty(definition: str) -> None:
    """A required field that is not an object Go may leave nil is in the JSON of an empty
    object: typed clients (the official Python client's models) refuse an object without it."""
    if definition in _WRITTEN:
        return  # no message: nothing the encoder writes
    theirs = kubernetes_definitions()[definition]
    empty = codec.encode(message_factory.GetMessageClass(messages()[definition])())
    for name in theirs.get("required", []):
        if _shape(theirs["properties"][name]) != "object":
            assert name in empty, f"{definition}.{name}"
