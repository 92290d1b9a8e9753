"""Every built-in kind in Kubernetes' protobuf and back: an object's JSON, written with
Kubernetes' field numbers (protobuf_encode) and read again (protobuf_bodies), is the same
object, for each kind's samples and for an object of each kind with every field set (so a
field podplane's JSON carries that the k8swire messages lack cannot go unnoticed)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from apiserver.endpoints.rest import bodies, protobuf_encode, protobuf_kinds
from apiserver.endpoints.rest.protobuf_bodies import decode
from podplane.api.k8swire.meta.v1 import meta_pb2
from podplane.api.k8swire.runtime import runtime_pb2
from podplane.apimachinery import codec, resources
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.resources import CreateOnlyResource, Resource
from tests.fuzz import samples as fuzz_samples
from tests.unit.machinery.printers.samples import SAMPLES

Kind = Resource | CreateOnlyResource


def _round_trip(resource: Kind, obj: Message) -> tuple[JSONObject, JSONObject]:
    """The object's JSON, and the JSON of what its protobuf reads back as (through the JSON
    path, as a request body would take it)."""
    sent = bodies.encode_object(resource, obj)
    raw = protobuf_encode.encode_object(resource.api_version, resource.kind, sent)
    read = decode(raw)
    back, unknown = codec.decode(resource.message, read, codec.FieldValidation.STRICT)
    assert unknown == []
    return sent, bodies.encode_object(resource, back)


def test_every_served_kind_is_written_in_protobuf() -> None:
    for r in resources.SERVED:
        assert protobuf_kinds.serves(r.api_version, r.kind), r.kind


@pytest.mark.parametrize("resource", resources.SERVED, ids=lambda r: r.kind)
def test_each_kinds_fuzz_sample_round_trips(resource: Kind) -> None:
    obj, _ = codec.decode(resource.message, fuzz_samples.sample(resource, "a", "default"))
    sent, back = _round_trip(resource, obj)
    if resource is resources.CUSTOM_RESOURCE_DEFINITION:
        # An empty map in a schema (`properties: {}`) is no field in protobuf: Kubernetes'
        # own protobuf drops it too.
        _drop_empty_properties(sent)
    assert back == sent


def _drop_empty_properties(value: Any) -> None:
    if isinstance(value, dict):
        if value.get("properties") == {}:
            del value["properties"]
        for item in value.values():
            _drop_empty_properties(item)
    elif isinstance(value, list):
        for item in value:
            _drop_empty_properties(item)


@pytest.mark.parametrize("plural", sorted(SAMPLES))
def test_each_kinds_printer_sample_round_trips(plural: str) -> None:
    resource, sample = SAMPLES[plural]
    sent, back = _round_trip(resource, sample)
    assert back == sent


def _scalar(field: FieldDescriptor, fmt: str, n: int) -> Any:
    """A value of the field's type and format that is not its zero."""
    if field.type == FieldDescriptor.TYPE_BOOL:
        return True
    if field.type == FieldDescriptor.TYPE_BYTES:
        return b"\x00\xff"
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 1.5
    if field.type != FieldDescriptor.TYPE_STRING:
        return n + 3
    return {
        "date-time": "2023-11-14T22:13:20Z",
        "micro-time": "2023-11-14T22:13:20.123456Z",
        "quantity": "100m",
        "int-or-string": "7" if n % 2 else "http",
        codec.JSON_SCHEMA_PROPS: '{"type":"object","properties":{"a":{"type":"string"}}}',
        "raw-extension": '{"a":[1,"b"]}',
        "fields-v1": '{"f:metadata":{"f:labels":{}}}',
    }.get(fmt, f"v{n}")


def _fill(msg: Message, depth: int = 0) -> None:
    """Sets every field of the message, and of the messages in it, to a value not zero."""
    if depth > 12:
        return
    fields = cast("list[FieldDescriptor]", list(msg.DESCRIPTOR.fields))
    for n, field in enumerate(fields):
        fmt = codec.field_schema(field).format
        if fmt == codec.INLINE_JSON:
            continue
        value: Any = getattr(msg, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            if value_field.message_type is not None:
                _fill(value["k"], depth + 1)
            else:
                value["k"] = _scalar(value_field, fmt or codec.field_schema(value_field).format, n)
        elif field.is_repeated and field.message_type is not None:
            _fill(value.add(), depth + 1)
        elif field.is_repeated:
            value.append(_scalar(field, fmt, n))
        elif field.message_type is not None:
            _fill(value, depth + 1)
        else:
            setattr(msg, field.name, _scalar(field, fmt, n))


@pytest.mark.parametrize("resource", resources.SERVED, ids=lambda r: r.kind)
def test_each_kind_with_every_field_set_round_trips(resource: Kind) -> None:
    obj = resource.message()
    _fill(obj)
    sent, back = _round_trip(resource, obj)
    if resource is resources.STATEFUL_SET:
        # A claim template's apiVersion and kind: protobuf's objects carry no TypeMeta, in
        # Kubernetes too.
        for template in sent["spec"]["volumeClaimTemplates"]:
            del template["apiVersion"], template["kind"]
    assert back == sent


def test_a_list_is_its_list_kind_of_list_meta_and_items() -> None:
    resource, pod = SAMPLES["pods"]
    listed = resource.list_message(items=[pod, pod])
    listed.metadata.resource_version = "42"
    listed.metadata.continue_token = "next"
    listed.metadata.remaining_item_count = 3
    raw = protobuf_encode.encode_list("v1", "Pod", bodies.encode_list(resource, listed))
    assert raw.startswith(protobuf_kinds.MAGIC)
    envelope = runtime_pb2.Unknown.FromString(raw[len(protobuf_kinds.MAGIC) :])
    assert (envelope.typeMeta.apiVersion, envelope.typeMeta.kind) == ("v1", "PodList")
    fields = _fields(envelope.raw)
    assert [number for number, _ in fields] == [1, 2, 2]
    meta = meta_pb2.ListMeta.FromString(fields[0][1])
    assert (meta.resourceVersion, getattr(meta, "continue"), meta.remainingItemCount) == (
        "42",
        "next",
        3,
    )
    items = [decode(protobuf_encode.envelope("v1", "Pod", item)) for _, item in fields[1:]]
    decoded = [codec.decode(resource.message, item)[0] for item in items]
    assert [bodies.encode_object(resource, item) for item in decoded] == [
        bodies.encode_object(resource, pod)
    ] * 2


def _fields(raw: bytes) -> list[tuple[int, bytes]]:
    """A message's length-delimited fields, in order."""
    out = []
    while raw:
        key, raw = _varint(raw)
        size, raw = _varint(raw)
        out.append((key >> 3, raw[:size]))
        raw = raw[size:]
    return out


def _varint(raw: bytes) -> tuple[int, bytes]:
    value = 0
    for i, byte in enumerate(raw):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, raw[i + 1 :]
    raise AssertionError("cut short")
