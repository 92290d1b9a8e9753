"""Pruning (apiextensions-apiserver pkg/apiserver/schema/pruning): the fields a custom
resource's schema does not specify are dropped, on every request and on every read from etcd,
except under `x-kubernetes-preserve-unknown-fields: true`, and except apiVersion, kind and
metadata of the resource itself and of embedded resources (objectmeta.py keeps metadata valid).

`prune` returns the paths of the fields it dropped (`spec.foo`, `spec.items[0].bar`), sorted,
for the apiserver's warnings (`unknown field "spec.foo"`) and strict field validation."""

from __future__ import annotations

import dataclasses

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural.schema import Structural

META_FIELDS = frozenset(("apiVersion", "kind", "metadata"))


def as_resource_root(s: Structural | None) -> Structural:
    """The schema of an object that is a resource itself: an embedded resource, so its
    apiVersion, kind and metadata are kept (isResourceRoot)."""
    s = s or Structural()
    if s.embedded_resource:
        return s
    return dataclasses.replace(
        s, extensions=dataclasses.replace(s.extensions, x_embedded_resource=True)
    )


def prune(obj: JSONValue, s: Structural | None, is_resource_root: bool = True) -> list[str]:
    """Drop the unknown fields of `obj` in place; the dropped fields' paths, sorted."""
    if is_resource_root:
        s = as_resource_root(s)
    unknown: list[str] = []
    _prune(obj, s, "", unknown)
    return sorted(unknown)


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def _prune(x: JSONValue, s: Structural | None, path: str, unknown: list[str]) -> None:
    if s is not None and s.preserve_unknown_fields:
        _skip_prune(x, s, path, unknown)
        return
    if isinstance(x, dict):
        if s is None:
            unknown.extend(_join(path, k) for k in x)
            x.clear()
            return
        for k in list(x):
            if s.embedded_resource and k in META_FIELDS:
                continue
            prop = s.properties.get(k)
            if prop is not None:
                _prune(x[k], prop, _join(path, k), unknown)
            elif s.additional_properties is not None:
                _prune(x[k], s.additional_properties.schema, _join(path, k), unknown)
            else:
                # A resource's own apiVersion, kind and metadata are not reported.
                if k not in META_FIELDS or path:
                    unknown.append(_join(path, k))
                del x[k]
    elif isinstance(x, list):
        items = s.items if s is not None else None
        for i, v in enumerate(x):
            _prune(v, items, f"{path}[{i}]", unknown)


def _skip_prune(x: JSONValue, s: Structural | None, path: str, unknown: list[str]) -> None:
    """Under x-kubernetes-preserve-unknown-fields: unknown fields stay, the specified ones are
    pruned by their own schemas."""
    if s is None:
        return
    if isinstance(x, dict):
        for k in list(x):
            if s.embedded_resource and k in META_FIELDS:
                continue
            prop = s.properties.get(k)
            if prop is not None:
                _prune(x[k], prop, _join(path, k), unknown)
            elif s.additional_properties is not None:
                _prune(x[k], s.additional_properties.schema, _join(path, k), unknown)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            _skip_prune(v, s.items, f"{path}[{i}]", unknown)
