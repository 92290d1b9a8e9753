"""Request bodies in Kubernetes' protobuf (application/vnd.kubernetes.protobuf, what kubectl's
typed clients send: kubectl 1.36's create generators, kubectl debug's pods): the magic `k8s\\0`,
then a runtime.Unknown naming the object's apiVersion and kind around the object's own message
(k8s.io/apimachinery's protobuf serializer). The object is read with Kubernetes' field numbers
(podplane/api/k8swire, the kinds in protobuf_kinds) into the JSON object the same body would be
as JSON, which then takes the JSON path: nothing is validated or stored differently. Answers
are written by protobuf_encode, the inverse of this."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable
from typing import Any

from google.protobuf import unknown_fields
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from apiserver import errors
from apiserver.endpoints.rest import protobuf_kinds as k
from podplane.api.k8swire.intstr import intstr_pb2
from podplane.api.k8swire.meta.v1 import meta_pb2
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.apimachinery import json_text
from podplane.apimachinery.json_types import JSONObject, JSONValue

MEDIA_TYPE = k.MEDIA_TYPE
MAGIC = k.MAGIC
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class _Undecodable(Exception):
    """What in the body cannot be read, with its field path."""


def _invalid(detail: str) -> errors.APIError:
    return errors.bad_request(f"the request body is not a valid {MEDIA_TYPE} object: {detail}")


def decode(raw: bytes) -> JSONObject:
    """The JSON object a protobuf body is. A body that is not Kubernetes' protobuf, is cut
    short, names a kind not served, or sets a field this server does not read is a 400."""
    if not raw.startswith(MAGIC):
        raise _invalid(f"it does not start with the magic prefix {MAGIC!r}")
    envelope = runtime_pb2.Unknown()
    try:
        envelope.ParseFromString(raw[len(MAGIC) :])
    except DecodeError as e:
        raise _invalid(f"the envelope (runtime.Unknown): {e}") from None
    api_version, kind = envelope.typeMeta.apiVersion, envelope.typeMeta.kind
    if not api_version or not kind:
        raise _invalid("the envelope (runtime.Unknown) names no apiVersion and kind")
    message = k.message_of(api_version, kind)
    if message is None:
        # As Kubernetes' scheme answers a kind it does not know.
        raise errors.bad_request(f'no kind "{kind}" is registered for version "{api_version}"')
    try:
        out = decode_message(message, envelope.raw, kind)
    except _Undecodable as e:
        raise _invalid(str(e)) from None
    # The type lives in the envelope, not in the object's message.
    return {"apiVersion": api_version, "kind": kind, **out}


def decode_message(message: type[Message], raw: bytes, kind: str) -> JSONObject:
    """One object's message (no envelope) as its JSON object, without apiVersion and kind."""
    obj = message()
    try:
        obj.ParseFromString(raw)
    except DecodeError as e:
        raise _Undecodable(f"the {kind}: {e}") from None
    return _object(obj, "")


def _object(message: Message, path: str) -> JSONObject:
    _refuse_unread(message, path)
    out: JSONObject = {}
    # proto3: ListFields leaves out the zero values of plain fields, as Go's JSON does (omitempty
    # or not, a zero non-pointer field decodes the same as an absent one).
    for field, value in message.ListFields():
        name = field.json_name
        at = f"{path}.{name}" if path else name
        if field.full_name in k.INLINE:
            out.update(_object(value, path))
        elif field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[name] = {key: _value(value_field, v, f"{at}[{key}]") for key, v in value.items()}
        elif field.is_repeated:
            out[name] = [_value(field, v, f"{at}[{i}]") for i, v in enumerate(value)]
        else:
            out[name] = _value(field, value, at)
    return out


def _value(field: FieldDescriptor, value: Any, path: str) -> JSONValue:
    """One value in its JSON form (Kubernetes' types that marshal as scalars included)."""
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if field.message_type is None:
        return value
    name = field.message_type.full_name
    special = _SPECIAL.get(name)
    if special is not None:
        _refuse_unread(value, path)
        return special(value, path)
    if name in k.EXTRA_VALUES:
        _refuse_unread(value, path)
        return list(value.items)
    return _object(value, path)


def _time(value: meta_pb2.Time | meta_pb2.MicroTime, path: str, micro: bool = False) -> str | None:
    """A metav1.Time as RFC 3339 to the second (Kubernetes drops the nanoseconds too), a
    MicroTime to the microsecond; an empty one is Go's zero time, null in JSON."""
    if not value.HasField("seconds"):
        return None
    try:
        when = _EPOCH + datetime.timedelta(seconds=value.seconds)
    except OverflowError:
        raise _Undecodable(f"{path}: {value.seconds} seconds is not a time") from None
    if micro:
        return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.nanos // 1000:06d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_text(raw: bytes, path: str) -> JSONValue:
    """A value held as its JSON text (FieldsV1, RawExtension, a schema's JSON)."""
    if not raw:
        return None
    try:
        return json_text.loads(raw)
    except ValueError as e:
        raise _Undecodable(f"{path}: {e}") from None


def _int_or_string(value: intstr_pb2.IntOrString, path: str) -> int | str:
    if value.type == 0:
        return int(value.intVal)
    if value.type == 1:
        return str(value.strVal)
    raise _Undecodable(f"{path}: {value.type} is not an IntOrString type (0 int, 1 string)")


def _either(value: Any, path: str, schema: str, other: str) -> JSONValue:
    """A schema or its other form (JSONSchemaPropsOr*): the schema when set, as Go writes it."""
    if value.HasField(schema):
        return _object(getattr(value, schema), f"{path}.{schema}")
    field = value.DESCRIPTOR.fields_by_name[other]
    if field.is_repeated:
        return [_value(field, v, f"{path}[{i}]") for i, v in enumerate(getattr(value, other))]
    return _value(field, getattr(value, other), path)


# The readers of the messages Kubernetes writes as scalar-like JSON values, by the message's full
# name: each takes its own message type (Time, IntOrString, ...), which the name, known only at
# run time, says; so the table types the message as untyped.
_SPECIAL: dict[str, Callable[[Any, str], JSONValue]] = {
    k.TIME: _time,
    k.MICRO_TIME: lambda v, p: _time(v, p, micro=True),
    k.INT_OR_STRING: _int_or_string,
    k.QUANTITY: lambda v, p: str(v.string),
    k.FIELDS_V1: lambda v, p: _json_text(v.Raw, p),
    k.RAW_EXTENSION: lambda v, p: _json_text(v.raw, p),
    k.JSON_VALUE: lambda v, p: _json_text(v.raw, p),
    k.SCHEMA_OR_BOOL: lambda v, p: _either(v, p, "schema", "allows"),
    k.SCHEMA_OR_ARRAY: lambda v, p: _either(v, p, "schema", "jSONSchemas"),
    k.SCHEMA_OR_STRINGS: lambda v, p: _either(v, p, "schema", "property"),
}


def _refuse_unread(message: Message, path: str) -> None:
    """A field this server does not read is refused rather than dropped, unless it is zero: Go
    sends every non-pointer field, zero or not, and a zero one says nothing."""
    unread = unknown_fields.UnknownFieldSet(message)
    for i in range(len(unread)):
        field = unread[i]
        if field.data not in (0, b""):
            name = message.DESCRIPTOR.name
            raise _Undecodable(
                f"{path or 'the object'}: field {field.field_number} of {name} is not read "
                "from protobuf by this server (send the object as application/json)"
            )
