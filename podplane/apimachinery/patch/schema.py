"""Strategic merge patch's vocabulary: the patch strategies a schema gives each field, and the
directives a patch carries.

What strategic merge patch knows about each field: how its lists merge (patch strategy "merge" by
a merge key, or replaced whole), whether its maps are replaced whole ("replace"), whether it drops
the keys a patch does not retain ("retainKeys"), and the schema of its value.

Two schemas implement it: one read off the API's protobuf descriptors (each field's
`(meta.v1.k8s)` option carries Kubernetes' patchStrategy and patchMergeKey tags), and one written
out as plain data, for tests and for kinds without messages. A key a schema does not know has no
metadata: its lists are replaced and its maps merged, as Kubernetes does for untagged fields."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from podplane.apimachinery.codec import field_schema

# Patch strategies, and the values of a patch's $patch directive.
MERGE = "merge"
REPLACE = "replace"
RETAIN_KEYS = "retainKeys"
DELETE = "delete"

# A patch's directives (keys of its maps).
DIRECTIVE = "$patch"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"  # + "/<field>"
SET_ELEMENT_ORDER = "$setElementOrder"  # + "/<field>"


class PatchSchema(Protocol):
    """The schema of one JSON object (a message, or a map's values)."""

    def lookup(self, key: str) -> PatchMeta:
        """The metadata of the member `key`; for a list, its schema is its elements'."""
        ...


@dataclass(frozen=True, slots=True)
class PatchMeta:
    schema: PatchSchema
    # "merge" (lists merge by merge_key, or as a set of primitives), "replace" (maps are replaced
    # whole) or "" (lists replaced, maps merged).
    strategy: str = ""
    merge_key: str = ""
    # The field's strategy includes retainKeys: a diff lists the keys to keep in $retainKeys.
    retain_keys: bool = False


def patch_meta(schema: PatchSchema, patch_strategy: str = "", merge_key: str = "") -> PatchMeta:
    """Metadata from the Go tags' spelling: patch_strategy is "", "merge", "replace",
    "retainKeys" or "merge,retainKeys"."""
    strategies = [s for s in patch_strategy.split(",") if s]
    retain_keys = RETAIN_KEYS in strategies
    others = [s for s in strategies if s != RETAIN_KEYS]
    if len(others) > 1 or (others and others[0] not in (MERGE, REPLACE)):
        raise ValueError(f"unexpected patch strategy: {patch_strategy}")
    return PatchMeta(schema, others[0] if others else "", merge_key, retain_keys)


class _NoSchema:
    """The schema of values nothing is known about: every member has no metadata."""

    def lookup(self, key: str) -> PatchMeta:
        return NO_META


NO_SCHEMA: PatchSchema = _NoSchema()
NO_META = PatchMeta(NO_SCHEMA)


# ---------------------------------------------------------------- protobuf messages


@functools.cache
def proto_schema(descriptor: Descriptor) -> PatchSchema:
    """The schema of a message, e.g. proto_schema(core_pb2.Pod.DESCRIPTOR). Fields are matched by
    their JSON names; each message's table is built once, on first use."""
    return _MessageSchema(descriptor)


class _MessageSchema:
    __slots__ = ("_descriptor", "_fields")

    def __init__(self, descriptor: Descriptor) -> None:
        self._descriptor = descriptor
        self._fields: dict[str, PatchMeta] | None = None

    def lookup(self, key: str) -> PatchMeta:
        fields = self._fields
        if fields is None:
            fields = self._fields = {f.json_name: _field_meta(f) for f in self._descriptor.fields}
        return fields.get(key, NO_META)


class _MapSchema:
    """A protobuf map: any key, each value of one schema."""

    __slots__ = ("_value",)

    def __init__(self, value: PatchSchema) -> None:
        self._value = PatchMeta(value)

    def lookup(self, key: str) -> PatchMeta:
        return self._value


def _field_meta(field: FieldDescriptor) -> PatchMeta:
    message = field.message_type
    schema = NO_SCHEMA
    if message is not None:
        if message.GetOptions().map_entry:
            value = message.fields_by_name["value"].message_type
            schema = _MapSchema(proto_schema(value) if value is not None else NO_SCHEMA)
        else:
            schema = proto_schema(message)
    k8s = field_schema(field)
    return patch_meta(schema, k8s.patch_strategy, k8s.patch_merge_key)


# ---------------------------------------------------------------- written out as data


class DictPatchSchema:
    """A schema written out as data: `types` maps a type name to its fields, each field to
    (the type of its value or elements, or None for primitives and free-form maps; its patch
    strategy; its merge key). E.g. {"Item": {"items": ("Item", "merge", "name")}}."""

    __slots__ = ("_fields", "_types")

    def __init__(
        self, types: Mapping[str, Mapping[str, tuple[str | None, str, str]]], root: str
    ) -> None:
        self._types = types
        self._fields = types[root]

    def lookup(self, key: str) -> PatchMeta:
        field = self._fields.get(key)
        if field is None:
            return NO_META
        type_name, strategy, merge_key = field
        schema = NO_SCHEMA if type_name is None else DictPatchSchema(self._types, type_name)
        return patch_meta(schema, strategy, merge_key)
