"""What server-side apply needs to know of a custom resource's schema at a place in an object:
how its lists merge (x-kubernetes-list-type: atomic by default, set, or map by
x-kubernetes-list-map-keys) and its objects (x-kubernetes-map-type: granular by default, or
atomic), as structured-merge-diff reads a CRD's schema (apiextensions-apiserver builds its
schema from the same structural schema).

    info = merge_info(structural, ["spec", "ports", {"name": "http"}, "targets"])
    info.list_type == "set"

A path is a sequence of steps from the object's root: a str is an object's field or a map's key,
an int a list's item by position, and a dict a map-list's item by its keys (its values for a
set are given as the value itself, any non-str, non-int JSON value, or as `SetValue(v)`).

Where the schema says nothing (under x-kubernetes-preserve-unknown-fields, or a field it does
not know), the value is *deduced*, as structured-merge-diff's `__untyped_deduced_` type: lists
atomic, objects granular, `deduced=True`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural.schema import Structural

ListType = Literal["atomic", "set", "map"]
MapType = Literal["atomic", "granular"]


@dataclass(frozen=True)
class SetValue:
    """A set-list item's step: the item's value."""

    value: JSONValue


Step = str | int | dict[str, JSONValue] | SetValue


@dataclass(frozen=True)
class MergeInfo:
    """How the value at a path merges. `kind` is the schema's type ("object", "array", a
    scalar type, "" for any); for an array, `list_type` and `map_keys`; for an object,
    `map_type`. `schema` is the structural schema there (None when deduced)."""

    kind: str
    list_type: ListType = "atomic"
    map_keys: tuple[str, ...] = ()
    map_type: MapType = "granular"
    schema: Structural | None = None
    deduced: bool = False

    @property
    def is_atomic(self) -> bool:
        """Whether the value is owned and replaced whole by an apply."""
        if self.kind == "array":
            return self.list_type == "atomic"
        if self.kind == "object" or self.deduced:
            return self.map_type == "atomic"
        return True


DEDUCED = MergeInfo(kind="", deduced=True)


def info_of(s: Structural) -> MergeInfo:
    x = s.extensions
    if x.x_int_or_string:
        return MergeInfo(kind="int-or-string", schema=s)
    kind = s.type
    if (
        not kind
        and s.preserve_unknown_fields
        and not s.properties
        and s.additional_properties is None
    ):
        return DEDUCED
    list_type: ListType = "atomic"
    if x.x_list_type in ("set", "map"):
        list_type = "set" if x.x_list_type == "set" else "map"
    map_type: MapType = "atomic" if x.x_map_type == "atomic" else "granular"
    return MergeInfo(
        kind=kind or "object",
        list_type=list_type,
        map_keys=tuple(x.x_list_map_keys) if list_type == "map" else (),
        map_type=map_type,
        schema=s,
    )


def child_schema(s: Structural | None, step: Step) -> Structural | None:
    """The schema one step down from `s`, or None where it is deduced."""
    if s is None:
        return None
    if isinstance(step, str):
        if step in s.properties:
            return s.properties[step]
        return s.additional_schema
    return s.items


def merge_info(s: Structural, path: Sequence[Step]) -> MergeInfo:
    """The merge information of the value at `path` in an object of schema `s` (the version's
    whole schema for a custom resource)."""
    current = s
    for step in path:
        next_schema = child_schema(current, step)
        if next_schema is None:
            return DEDUCED
        current = next_schema
    return info_of(current)
