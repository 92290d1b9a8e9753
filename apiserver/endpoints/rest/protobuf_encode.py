"""Answers in Kubernetes' protobuf (application/vnd.kubernetes.protobuf, what client-go's typed
clients ask for first): the JSON object an answer would be, written with Kubernetes' field
numbers (podplane/api/k8swire) as the inverse of protobuf_bodies' reading, in the envelope
k8s.io/apimachinery's protobuf serializer writes: the magic `k8s\\0`, then a runtime.Unknown
naming the apiVersion and kind around the object's message. A list is its kind's List message
(ListMeta 1, items 2, the same for every list type); a watch is a stream of length-delimited
frames, each a meta.v1 WatchEvent whose object holds the enveloped object (the stream
serializer's raw WatchEvent, as Kubernetes' watch handler writes it)."""

from __future__ import annotations

import base64
import datetime
import functools
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from apiserver.endpoints.rest import protobuf_kinds as k
from apiserver.storage.txn_wire import varint
from podplane.api.k8swire.intstr import intstr_pb2
from podplane.api.k8swire.meta.v1 import meta_pb2
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.apimachinery import json_text
from podplane.apimachinery.json_types import JSONObject, JSONValue

_INTEGERS = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
    }
)
_FLOATS = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    """An object's message in the runtime.Unknown Kubernetes' protobuf serializer writes."""
    unknown = runtime_pb2.Unknown(
        typeMeta=runtime_pb2.TypeMeta(apiVersion=api_version, kind=kind), raw=raw
    )
    return k.MAGIC + unknown.SerializeToString()


def encode_object(api_version: str, kind: str, body: JSONObject) -> bytes:
    """A served kind's object (its JSON) in protobuf, enveloped; KeyError for a kind that has
    no protobuf form."""
    return envelope(api_version, kind, message_bytes(k.KINDS[(api_version, kind)], body))


def message_bytes(message: type[Message], body: JSONObject) -> bytes:
    """The object's own message (no envelope), from its JSON."""
    out = message()
    fill(out, body)
    return out.SerializeToString()


def encode_list(api_version: str, kind: str, body: JSONObject) -> bytes:
    """A list of `kind` objects (its JSON: metadata and items) as Kubernetes' <Kind>List, whose
    message is a ListMeta (1) and the items (2) for every list type."""
    metadata = meta_pb2.ListMeta()
    fill(metadata, _object(body.get("metadata") or {}))
    items = body.get("items") or []
    message = k.KINDS[(api_version, kind)]
    raw = _length_delimited(1, metadata.SerializeToString()) + b"".join(
        _length_delimited(2, message_bytes(message, _object(item))) for item in _list(items)
    )
    return envelope(api_version, str(body.get("kind") or kind + "List"), raw)


def watch_frame(event_type: str, enveloped: bytes) -> bytes:
    """One watch event: its WatchEvent message (type 1, object 2 holding the enveloped object's
    bytes) after its length as four big-endian bytes (the LengthDelimitedFramer)."""
    event = meta_pb2.WatchEvent(type=event_type, object=runtime_pb2.RawExtension(raw=enveloped))
    raw = event.SerializeToString()
    return len(raw).to_bytes(4, "big") + raw


def status(body: JSONObject) -> bytes:
    """A metav1.Status (an error's, a delete's success) as Kubernetes writes it in protobuf."""
    return envelope("v1", "Status", message_bytes(meta_pb2.Status, body))


def _length_delimited(number: int, raw: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def _object(value: JSONValue) -> JSONObject:
    return value if isinstance(value, dict) else {}


def _list(value: JSONValue) -> list[JSONValue]:
    return value if isinstance(value, list) else []


@functools.cache
def _fields(descriptor: Descriptor) -> dict[str, tuple[tuple[str, ...], FieldDescriptor]]:
    """Each field by its JSON name, with the names of the inline (Go-embedded) messages that
    hold it."""
    out: dict[str, tuple[tuple[str, ...], FieldDescriptor]] = {}
    for field in descriptor.fields:
        if field.full_name in k.INLINE:
            for name, (chain, inner) in _fields(field.message_type).items():
                out.setdefault(name, ((field.name, *chain), inner))
        else:
            out[field.json_name] = ((), field)
    return out


def fill(message: Message, data: JSONObject) -> None:
    """Sets `message` from its JSON object. A key its message does not have (apiVersion and
    kind, which the envelope carries) is not written; a null is Go's zero value, not sent."""
    fields = _fields(message.DESCRIPTOR)
    for key, value in data.items():
        found = fields.get(key)
        if found is None or value is None:
            continue
        chain, field = found
        target = message
        for name in chain:
            target = getattr(target, name)
        _set(target, field, value)


def _set(message: Message, field: FieldDescriptor, value: JSONValue) -> None:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        mapped = getattr(message, field.name)
        value_field = field.message_type.fields_by_name["value"]
        for key, item in _object(value).items():
            if item is None:
                continue
            if value_field.message_type is not None:
                _message(mapped[key], item)
            else:
                mapped[key] = _scalar(value_field, item)
    elif field.is_repeated:
        repeated = getattr(message, field.name)
        if field.message_type is not None:
            for item in _list(value):
                _message(repeated.add(), item)
        else:
            repeated.extend(_scalar(field, item) for item in _list(value))
    elif field.message_type is not None:
        _message(getattr(message, field.name), value)
    else:
        setattr(message, field.name, _scalar(field, value))


def _scalar(field: FieldDescriptor, value: JSONValue) -> object:
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64decode(str(value))
    if field.type in _INTEGERS:
        return int(value)
    if field.type in _FLOATS:
        return float(value)
    return value


def _message(message: Message, value: JSONValue) -> None:
    """A message field from its JSON value, Kubernetes' scalar-like types by their JSON form."""
    message.SetInParent()  # present even when empty: `emptyDir: {}` is a value
    write = _SPECIAL.get(message.DESCRIPTOR.full_name)
    if write is not None:
        write(message, value)
    elif message.DESCRIPTOR.full_name in k.EXTRA_VALUES:
        message.items.extend(str(v) for v in _list(value))  # type: ignore[attr-defined]
    else:
        fill(message, _object(value))


def _time(
    message: meta_pb2.Time | meta_pb2.MicroTime, value: JSONValue, micro: bool = False
) -> None:
    """RFC 3339 as seconds since the epoch; a MicroTime keeps its microseconds as nanos (a Time
    is to the second in Kubernetes' JSON, and nanos 0 in its protobuf)."""
    when = datetime.datetime.fromisoformat(str(value))
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    whole = when.replace(microsecond=0)
    message.seconds = int(whole.timestamp())
    if micro:
        message.nanos = when.microsecond * 1000


def _int_or_string(message: intstr_pb2.IntOrString, value: JSONValue) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        message.type, message.intVal = 0, value
    else:
        message.type, message.strVal = 1, str(value)


def _json_raw(message: Message, value: JSONValue, field: str = "raw") -> None:
    setattr(message, field, json_text.dumps(value))


def _schema_or(message: Any, value: JSONValue, other: str) -> None:
    """JSONSchemaPropsOr*: an object is the schema; else the other form (a bool, a list of
    schemas, a list of strings)."""
    if isinstance(value, dict):
        _message(message.schema, value)
        if other == "allows":
            message.allows = True  # Go reads a schema as allowing, too
    else:
        _set(message, message.DESCRIPTOR.fields_by_name[other], value)


# The writers of the messages written from a scalar-like JSON value, by the message's full name:
# each takes its own message type (Time, IntOrString, ...), which the name, known only at run
# time, says; so the table types the message as untyped.
_SPECIAL: dict[str, Callable[[Any, JSONValue], None]] = {
    k.TIME: _time,
    k.MICRO_TIME: lambda m, v: _time(m, v, micro=True),
    k.INT_OR_STRING: _int_or_string,
    k.QUANTITY: lambda m, v: setattr(m, "string", str(v)),
    k.FIELDS_V1: lambda m, v: _json_raw(m, v, "Raw"),
    k.RAW_EXTENSION: _json_raw,
    k.JSON_VALUE: _json_raw,
    k.SCHEMA_OR_BOOL: lambda m, v: _schema_or(m, v, "allows"),
    k.SCHEMA_OR_ARRAY: lambda m, v: _schema_or(m, v, "jSONSchemas"),
    k.SCHEMA_OR_STRINGS: lambda m, v: _schema_or(m, v, "property"),
}
