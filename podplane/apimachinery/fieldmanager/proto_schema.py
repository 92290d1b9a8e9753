"""Server-side apply's schema of every built-in kind, read off the protos: each message is a
granular struct (atomic when its `(meta.v1.k8s_type)` says so: LabelSelector, ObjectReference,
the key selectors), each field's `(meta.v1.k8s)` option gives its list type and keys, a map's or
struct's override of its map type, and a key's default; protobuf maps are maps of their values.

Kubernetes builds the same schema from its OpenAPI (kube-openapi's schemaconv): a list with no
list type is a map by its patch merge key when its patch strategy is merge, a set when it merges
without a key, atomic otherwise; int-or-string, quantities and times are untyped scalars; a
RawExtension is untyped and atomic."""

from __future__ import annotations

import functools
import json

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from podplane.api.meta.v1 import schema_pb2
from podplane.apimachinery.codec import RAW_JSON_FORMATS, STRING_LIST, field_schema, type_schema
from podplane.apimachinery.fieldmanager.schema import (
    ANY,
    ASSOCIATIVE,
    ATOMIC,
    BOOLEAN,
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

_NUMBERS = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_DOUBLE,
        FieldDescriptor.TYPE_FLOAT,
    }
)
_UNTYPED_FORMATS = frozenset({"int-or-string", "quantity", "date-time", "micro-time"})
_NUMERIC = ScalarType(NUMERIC)
_STRING = ScalarType(STRING)
_BOOLEAN = ScalarType(BOOLEAN)
_STRINGS = ListType(_STRING)


def message_atomic(descriptor: Descriptor) -> bool:
    """Whether Kubernetes marks the message's struct atomic (`+structType=atomic`)."""
    return type_schema(descriptor).map_type == ATOMIC


@functools.cache
def message_type(descriptor: Descriptor) -> MapType:
    """The type of a message (e.g. message_type(core_pb2.Pod.DESCRIPTOR)): built once, its
    fields on first use."""
    return MapType(
        lambda: {f.json_name: _field_type(f) for f in descriptor.fields},
        atomic=message_atomic(descriptor),
        defaults=lambda: _defaults(descriptor),
    )


def _defaults(descriptor: Descriptor) -> dict[str, JSONValue]:
    out: dict[str, JSONValue] = {}
    for f in descriptor.fields:
        text = field_schema(f).default_value
        if text:
            out[f.json_name] = json.loads(text)
    return out


def _scalar(f: FieldDescriptor, fmt: str) -> Type:
    if fmt in RAW_JSON_FORMATS:
        return UNTYPED_ATOMIC
    if fmt in _UNTYPED_FORMATS:
        return ANY
    if f.type == FieldDescriptor.TYPE_BOOL:
        return _BOOLEAN
    if f.type in _NUMBERS:
        return _NUMERIC
    return _STRING


def _value_type(f: FieldDescriptor, fmt: str) -> Type:
    """The type of one value of a field (its elements' for a list)."""
    message = f.message_type
    if message is not None:
        return message_type(message)
    return _scalar(f, fmt)


def _list_type(schema: schema_pb2.FieldSchema) -> tuple[str, tuple[str, ...]]:
    if schema.list_type:
        keys = tuple(schema.list_map_keys) if schema.list_type == ASSOCIATIVE else ()
        return schema.list_type, keys
    strategies = schema.patch_strategy.split(",")
    if "merge" in strategies:
        if schema.patch_merge_key:
            return ASSOCIATIVE, (schema.patch_merge_key,)
        return SET, ()
    return ATOMIC, ()


def _field_type(f: FieldDescriptor) -> Type:
    schema = field_schema(f)
    message = f.message_type
    if message is not None and message.GetOptions().map_entry:
        value = message.fields_by_name["value"]
        if schema.format == STRING_LIST:
            element: Type = _STRINGS
        else:
            element = _value_type(value, schema.format or field_schema(value).format)
        return MapType({}, element, atomic=schema.map_type == ATOMIC)
    if f.is_repeated:
        list_type, keys = _list_type(schema)
        return ListType(_value_type(f, schema.format), list_type, keys)
    if message is not None:
        struct = message_type(message)
        if schema.map_type:
            return struct.with_atomic(schema.map_type == ATOMIC)
        return struct
    return _scalar(f, schema.format)
