"""Defaulting (apiextensions-apiserver pkg/apiserver/schema/defaulting/algorithm.go and
prunenulls.go): a custom resource's schema `default`s are applied when it is read from a request
and when it is read from etcd, to every absent field, and to a null where the field is not
nullable; items and additionalProperties values get their schema's default for a null too.

Before defaulting, the apiserver drops the nulls of fields that are neither nullable nor
defaulted (`prune_non_nullable_nulls`), so `spec: {replicas: null}` reads as `spec: {}`."""

from __future__ import annotations

import copy

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural.schema import Structural


def _non_nullable_null(x: JSONValue, s: Structural | None) -> bool:
    return x is None and s is not None and not s.nullable


def apply_defaults(x: JSONValue, s: Structural | None) -> None:
    """Default: fill in `x`'s defaults in place."""
    if s is None:
        return
    if isinstance(x, dict):
        for name, prop in s.properties.items():
            if prop.generic.has_default and (name not in x or _non_nullable_null(x[name], prop)):
                x[name] = copy.deepcopy(prop.generic.default)
        additional = s.additional_schema
        for name in x:
            if name in s.properties:
                apply_defaults(x[name], s.properties[name])
            elif s.additional_properties is not None:
                if additional is not None and _non_nullable_null(x[name], additional):
                    x[name] = copy.deepcopy(additional.generic.default)
                apply_defaults(x[name], additional)
    elif isinstance(x, list):
        for i in range(len(x)):
            if s.items is not None and _non_nullable_null(x[i], s.items):
                x[i] = copy.deepcopy(s.items.generic.default)
            apply_defaults(x[i], s.items)


def _field_schema(name: str, s: Structural | None) -> Structural | None:
    if s is None:
        return None
    if name in s.properties:
        return s.properties[name]
    return s.additional_schema


def prune_non_nullable_nulls(x: JSONValue, s: Structural | None) -> None:
    """PruneNonNullableNullsWithoutDefaults: drop the nulls of fields that are neither nullable
    nor defaulted, in place."""
    if isinstance(x, dict):
        for name in list(x):
            schema = _field_schema(name, s)
            value = x[name]
            if (
                value is None
                and schema is not None
                and not schema.nullable
                and not (schema.generic.has_default)
            ):
                del x[name]
            else:
                prune_non_nullable_nulls(value, schema)
    elif isinstance(x, list):
        items = s.items if s is not None else None
        for item in x:
            prune_non_nullable_nulls(item, items)
