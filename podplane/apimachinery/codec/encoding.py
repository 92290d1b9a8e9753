"""API objects to Kubernetes' JSON: a plan per message (each field's JSON name, kind and
conversion, computed once), then every field written by it (podplane.apimachinery.codec)."""

from __future__ import annotations

import base64
import enum
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from podplane.apimachinery.codec.schema import (
    INLINE_JSON,
    INT_TYPES,
    INTEGER,
    NULLABLE,
    RAW_JSON_FORMATS,
    STRING_LIST,
    field_schema,
)
from podplane.apimachinery.json_types import JSONObject, JSONValue


class _Kind(enum.Enum):
    MAP = 1
    REPEATED_MESSAGE = 2
    REPEATED_SCALAR = 3
    MESSAGE = 4
    SCALAR = 5
    INLINE = 6


@dataclass(frozen=True)
class _FieldPlan:
    name: str
    json_name: str
    kind: _Kind
    emit_empty: bool
    has_presence: bool
    # What a scalar becomes in JSON (bytes to base64, int-or-string to a number, ...).
    convert: Callable[[Any], JSONValue] | None
    # What an empty, emit_empty scalar is written as (None: JSON null).
    empty: JSONValue
    message: Descriptor | None = None
    value_is_message: bool = False
    value_convert: Callable[[Any], JSONValue] | None = None
    # A map whose message values are written as their `items` list (format "string-list").
    string_lists: bool = False


def _int_or_string(value: str) -> int | str:
    return int(value) if INTEGER.match(value) else value


def _bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _raw_json(value: str) -> JSONValue:
    parsed: JSONValue = json.loads(value)
    return parsed


def _convert(f: FieldDescriptor, fmt: str) -> Callable[[Any], JSONValue] | None:
    if f.type == FieldDescriptor.TYPE_BYTES:
        return _bytes
    if fmt == "int-or-string":
        return _int_or_string
    if fmt in RAW_JSON_FORMATS:
        return _raw_json
    return None


def _empty(f: FieldDescriptor, fmt: str) -> JSONValue:
    """What Go writes for the zero value of a field it never omits."""
    if fmt in ("date-time", "micro-time"):
        return None  # metav1.Time's zero value marshals as null
    if fmt == "quantity":
        return "0"
    if fmt == "int-or-string":
        return 0
    if fmt in RAW_JSON_FORMATS:
        return None
    if f.type == FieldDescriptor.TYPE_BOOL:
        return False
    if f.type in INT_TYPES:
        return 0
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 0.0
    return ""


@functools.cache
def _plan(descriptor: Descriptor) -> tuple[_FieldPlan, ...]:
    plans = []
    for f in descriptor.fields:
        schema = field_schema(f)
        fmt = schema.format
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            value = f.message_type.fields_by_name["value"]
            plans.append(
                _FieldPlan(
                    f.name,
                    f.json_name,
                    _Kind.MAP,
                    schema.emit_empty,
                    False,
                    None,
                    None,
                    message=value.message_type,
                    value_is_message=value.message_type is not None,
                    value_convert=_convert(value, field_schema(value).format),
                    string_lists=fmt == STRING_LIST,
                )
            )
        elif f.is_repeated:
            kind = _Kind.REPEATED_MESSAGE if f.message_type is not None else _Kind.REPEATED_SCALAR
            plans.append(
                _FieldPlan(
                    f.name,
                    f.json_name,
                    kind,
                    schema.emit_empty,
                    False,
                    _convert(f, fmt),
                    None,
                    message=f.message_type,
                )
            )
        elif f.message_type is not None:
            plans.append(
                _FieldPlan(
                    f.name,
                    f.json_name,
                    _Kind.MESSAGE,
                    schema.emit_empty or fmt == NULLABLE,
                    True,
                    None,
                    None,
                    # A nullable one's empty value is null (`empty`); a struct's, its empty JSON.
                    message=None if fmt == NULLABLE else f.message_type,
                )
            )
        elif fmt == INLINE_JSON:
            plans.append(_FieldPlan(f.name, f.json_name, _Kind.INLINE, False, False, None, None))
        else:
            plans.append(
                _FieldPlan(
                    f.name,
                    f.json_name,
                    _Kind.SCALAR,
                    schema.emit_empty,
                    f.has_presence,
                    _convert(f, fmt),
                    _empty(f, fmt),
                )
            )
    return tuple(plans)


@functools.cache
def _encoding(descriptor: Descriptor) -> tuple[dict[int, _FieldPlan], tuple[_FieldPlan, ...]]:
    """A message's field plans by field number, and those written even when empty."""
    plans = _plan(descriptor)
    by_number = {f.number: plan for f, plan in zip(descriptor.fields, plans, strict=True)}
    return by_number, tuple(plan for plan in plans if plan.emit_empty)


def _empty_value(plan: _FieldPlan) -> JSONValue:
    """What Go writes for a field it never omits when the field is empty."""
    kind = plan.kind
    if kind is _Kind.SCALAR:
        return plan.empty
    if kind is _Kind.MESSAGE:
        return _encode_empty(plan.message) if plan.message is not None else plan.empty
    if kind is _Kind.MAP:
        return {}
    return []


def _encode_empty(descriptor: Descriptor | None) -> JSONObject:
    if descriptor is None:
        return {}
    return {plan.json_name: _empty_value(plan) for plan in _encoding(descriptor)[1]}


def _field_json(plan: _FieldPlan, value: Any) -> JSONValue:
    """A set field's value as Kubernetes' JSON has it."""
    kind = plan.kind
    if kind is _Kind.SCALAR:
        return plan.convert(value) if plan.convert else value
    if kind is _Kind.MESSAGE:
        return encode(value)
    if kind is _Kind.REPEATED_MESSAGE:
        return [encode(item) for item in value]
    if kind is _Kind.REPEATED_SCALAR:
        convert = plan.convert
        return [convert(v) for v in value] if convert else list(value)
    if plan.string_lists:
        return {k: list(value[k].items) for k in sorted(value)}
    if plan.value_is_message:  # a map
        return {k: encode(value[k]) for k in sorted(value)}
    if plan.value_convert:
        return {k: plan.value_convert(value[k]) for k in sorted(value)}
    return dict(sorted(value.items()))


def encode(msg: Message) -> JSONObject:
    """The object as Kubernetes' JSON encoder writes it (a dict, ready for json.dumps).

    Only the fields protobuf lists as set (one C call) are visited, then the empty ones Go writes
    anyway: objects are mostly empty fields, and visiting every field of every message cost a
    REST create a third of a millisecond."""
    by_number, empties = _encoding(msg.DESCRIPTOR)
    out: JSONObject = {}
    for f, value in msg.ListFields():
        plan = by_number[f.number]
        kind = plan.kind  # the two commonest kinds inline: a call per field costs
        if kind is _Kind.SCALAR:
            out[plan.json_name] = plan.convert(value) if plan.convert else value
        elif kind is _Kind.MESSAGE:
            out[plan.json_name] = encode(value)
        elif kind is _Kind.INLINE:
            _merge_inline(out, value)
        else:
            out[plan.json_name] = _field_json(plan, value)
    for plan in empties:
        if plan.json_name not in out:
            out[plan.json_name] = _empty_value(plan)
    return out


def encode_substituting(msg: Message, substitutes: dict[int, JSONValue]) -> JSONObject:
    """encode(msg), but the top-level fields numbered in `substitutes` hold the values given for
    them (what the field manager compares two objects with: a field both have alike is one
    placeholder, not encoded twice)."""
    by_number, empties = _encoding(msg.DESCRIPTOR)
    out: JSONObject = {}
    for f, value in msg.ListFields():
        number = f.number
        plan = by_number[number]
        kind = plan.kind
        if kind is _Kind.INLINE:
            _merge_inline(out, value)
        elif number in substitutes:
            out[plan.json_name] = substitutes[number]
        elif kind is _Kind.SCALAR:  # the commonest kinds inline, as in encode()
            out[plan.json_name] = plan.convert(value) if plan.convert else value
        elif kind is _Kind.MESSAGE:
            out[plan.json_name] = encode(value)
        else:
            out[plan.json_name] = _field_json(plan, value)
    for plan in empties:
        if plan.json_name not in out:
            out[plan.json_name] = _empty_value(plan)
    return out


def _merge_inline(out: JSONObject, value: str) -> None:
    """An inline JSON field's keys as the object's own (a custom object's untyped content)."""
    inline = json.loads(value)
    if isinstance(inline, dict):
        for k, v in inline.items():
            out.setdefault(k, v)  # a typed field wins over a key it shadows


# ------------------------------------------------------------------ decoding
