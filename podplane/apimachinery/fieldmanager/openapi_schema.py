"""Server-side apply's schema from an OpenAPI v3 structural schema (a CustomResourceDefinition
version's `schema.openAPIV3Schema`), as kube-openapi's schemaconv reads one:

- `type: object` with `properties` is a struct; `additionalProperties` gives the type of other
  keys (true, or no properties at all, or `x-kubernetes-preserve-unknown-fields`: deduced from
  the value); `x-kubernetes-map-type: atomic` makes it atomic;
- `type: array` is a list of its `items`, typed by `x-kubernetes-list-type` (atomic, set, map
  with `x-kubernetes-list-map-keys`), else by the patch strategy, else atomic;
- `x-kubernetes-int-or-string`, and string formats other than plain and byte, are untyped
  scalars; a schema with no type is untyped (deduced);
- a property's `default` is what a list item's missing key is taken to be."""

from __future__ import annotations

from collections.abc import Mapping

from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.fieldmanager.proto_schema import message_type
from podplane.apimachinery.fieldmanager.schema import (
    ANY,
    ASSOCIATIVE,
    ATOMIC,
    BOOLEAN,
    DEDUCED,
    NUMERIC,
    SET,
    STRING,
    UNTYPED_ATOMIC,
    ListType,
    MapType,
    ScalarType,
    Type,
)
from podplane.apimachinery.json_types import JSONValue

_NUMERIC = ScalarType(NUMERIC)
_STRING = ScalarType(STRING)
_BOOLEAN = ScalarType(BOOLEAN)


def openapi_type(schema: Mapping[str, JSONValue], *, preserve_unknown: bool = False) -> Type:
    """The type an OpenAPI v3 structural schema describes."""
    if schema.get("x-kubernetes-preserve-unknown-fields") is True:
        preserve_unknown = True
    if schema.get("x-kubernetes-int-or-string") is True:
        return ANY
    typ = schema.get("type")
    if typ == "object":
        return _object(schema, preserve_unknown)
    if typ == "array":
        return _array(schema, preserve_unknown)
    if typ in ("integer", "number"):
        return _NUMERIC
    if typ == "boolean":
        return _BOOLEAN
    if typ == "string":
        return _STRING if schema.get("format", "") in ("", "byte") else ANY
    if typ in (None, ""):
        if isinstance(schema.get("properties"), dict):
            return _object(schema, preserve_unknown)
        return DEDUCED
    return ANY


def _object(schema: Mapping[str, JSONValue], preserve_unknown: bool) -> MapType:
    properties = schema.get("properties")
    props: Mapping[str, JSONValue] = properties if isinstance(properties, dict) else {}
    fields = {
        name: openapi_type(sub, preserve_unknown=preserve_unknown)
        for name, sub in props.items()
        if isinstance(sub, dict)
    }
    defaults = {
        name: sub["default"]
        for name, sub in props.items()
        if isinstance(sub, dict) and "default" in sub
    }
    additional = schema.get("additionalProperties")
    element: Type | None
    if isinstance(additional, dict):
        element = openapi_type(additional, preserve_unknown=preserve_unknown)
    elif additional is True or (additional is None and (preserve_unknown or not props)):
        element = DEDUCED
    else:
        element = None
    atomic = schema.get("x-kubernetes-map-type") == ATOMIC
    return MapType(fields, element, atomic=atomic, defaults=defaults)


def _array(schema: Mapping[str, JSONValue], preserve_unknown: bool) -> ListType:
    items = schema.get("items")
    element = (
        openapi_type(items, preserve_unknown=preserve_unknown)
        if isinstance(items, dict)
        else UNTYPED_ATOMIC
    )
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == ASSOCIATIVE:
        keys = schema.get("x-kubernetes-list-map-keys")
        names = tuple(k for k in keys if isinstance(k, str)) if isinstance(keys, list) else ()
        return ListType(element, ASSOCIATIVE, names)
    if list_type == SET:
        return ListType(element, SET)
    if list_type == ATOMIC:
        return ListType(element, ATOMIC)
    strategy = schema.get("x-kubernetes-patch-strategy")
    if strategy in ("merge", "merge,retainKeys"):
        key = schema.get("x-kubernetes-patch-merge-key")
        if isinstance(key, str):
            return ListType(element, ASSOCIATIVE, (key,))
        return ListType(element, SET)
    return ListType(element, ATOMIC)


def custom_resource_type(schema: Mapping[str, JSONValue]) -> MapType:
    """The type of a custom resource whose version has this schema: its `apiVersion` and `kind`
    strings and its `metadata` an ObjectMeta, whatever the schema says of them (as the
    apiextensions-apiserver gives every custom resource)."""
    root = openapi_type(schema)
    fields = dict(root.fields) if isinstance(root, MapType) else {}
    fields["apiVersion"] = _STRING
    fields["kind"] = _STRING
    fields["metadata"] = message_type(meta_pb2.ObjectMeta.DESCRIPTOR)
    element = root.element if isinstance(root, MapType) else None
    atomic = root.atomic if isinstance(root, MapType) else False
    return MapType(fields, element, atomic=atomic)
