"""A watch's batches written as bytes (apiserver/endpoints/grpc/watch_batches.py): the watch event
message holding those events, for every kind; the Watch methods' serializer passes them through
and serializes anything else as before."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from apiserver.endpoints.grpc.watch_batches import (
    EVENTS_FIELD,
    batch_bytes,
    bytes_passing,
    serve_batches_as_bytes,
)
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec, resources
from podplane.apimachinery.resources import Resource
from podplane.componentbase.serving import MethodTable
from tests.fuzz import samples


def _event(resource: Resource[Any, Any, Any], type_: str, name: str) -> Message:
    obj, _ = codec.decode(resource.message, samples.sample(resource, name, "default"))
    event: Message = resource.watch_event()
    event.type = type_  # type: ignore[attr-defined]
    event.object.CopyFrom(obj)  # type: ignore[attr-defined]
    return event


@pytest.mark.parametrize("resource", resources.ALL, ids=lambda r: r.plural)
def test_a_batch_is_the_watch_event_holding_its_events(resource: Resource[Any, Any, Any]) -> None:
    events = [_event(resource, t, f"x-{i}") for i, t in enumerate(("ADDED", "MODIFIED"))]
    events.append(resource.watch_event(type="BOOKMARK"))  # an event of a few bytes
    field = resource.watch_event().DESCRIPTOR.fields_by_name["events"]
    assert field.number == EVENTS_FIELD
    expected = resource.watch_event(events=events)
    got = batch_bytes(events)
    # Equal as messages: a map's entries (a ConfigMap's data) may come in another order.
    assert resource.watch_event().FromString(got) == expected
    assert len(got) == expected.ByteSize()


def test_events_of_every_length_are_framed() -> None:
    """Lengths whose varint takes one, two and three bytes."""
    for size in (0, 1, 127, 128, 16_383, 16_384, 300_000):
        pod = core_pb2.Pod()
        pod.metadata.annotations["a"] = "x" * size
        events = [core_pb2.PodWatchEvent(type="MODIFIED", object=pod)] * 2
        assert batch_bytes(events) == core_pb2.PodWatchEvent(events=events).SerializeToString()


def test_the_serializer_passes_bytes_and_serializes_messages() -> None:
    serialize = bytes_passing(core_pb2.PodWatchEvent.SerializeToString)
    event = core_pb2.PodWatchEvent(type="ADDED")
    assert serialize(b"\x1a\x00") == b"\x1a\x00"
    assert serialize(event) == event.SerializeToString()
    with pytest.raises(TypeError):
        bytes_passing(None)(event)


def test_only_the_watch_methods_get_it() -> None:
    def watch(request: object, context: object) -> None:
        raise AssertionError("not called")

    table = MethodTable()
    get = grpc.unary_unary_rpc_method_handler(
        watch, response_serializer=core_pb2.Pod.SerializeToString
    )
    table.add_registered_method_handlers(
        "podplane.core.v1.Pods",
        {
            "Watch": grpc.unary_stream_rpc_method_handler(
                watch,
                request_deserializer=core_pb2.Pod.FromString,
                response_serializer=core_pb2.PodWatchEvent.SerializeToString,
            ),
            "Get": get,
        },
    )
    serve_batches_as_bytes(table)
    served = table.handlers["/podplane.core.v1.Pods/Watch"]
    assert served.unary_stream is watch
    assert served.request_deserializer == core_pb2.Pod.FromString
    assert served.response_serializer(b"batch") == b"batch"
    event = core_pb2.PodWatchEvent(type="ADDED")
    assert served.response_serializer(event) == event.SerializeToString()
    assert table.handlers["/podplane.core.v1.Pods/Get"] is get
