"""A watch's batches (WatchRequest.allowWatchBatches: several events in one message's `events`)
written as bytes: the events' own encodings, each framed as an element of `events`, joined. Built
as a message, a batch copied every event into it, for each watcher, before gRPC encoded it again;
these bytes decode to that message (a message holding only `events` encodes as this, but for the
order of map entries, which protobuf leaves open).

A Watch method's response serializer passes such bytes through as they are (bytes_passing)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import grpc
from google.protobuf.message import Message

from apiserver.storage.txn_wire import varint
from podplane.componentbase.serving import MethodTable

# Every kind's watch event numbers its `events` 3 (checked by the tests for each kind).
EVENTS_FIELD = 3
_EVENTS_TAG = bytes([EVENTS_FIELD << 3 | 2])  # field 3, length-delimited


class _Event(Protocol):
    def SerializeToString(self) -> bytes: ...


def batch_bytes(events: Sequence[_Event]) -> bytes:
    """The encoding of the watch event message whose `events` are `events`."""
    parts: list[bytes] = []
    for event in events:
        encoded = event.SerializeToString()
        parts += (_EVENTS_TAG, varint(len(encoded)), encoded)
    return b"".join(parts)


def bytes_passing(serialize: Callable[[Message], bytes] | None) -> Callable[[object], bytes]:
    """A response serializer that passes bytes (a batch_bytes) through and serializes the rest
    with `serialize` (the method's own)."""

    def serializer(response: object) -> bytes:
        if type(response) is bytes:
            return response
        if serialize is None:
            raise TypeError(f"no serializer for {type(response).__name__}")
        return serialize(response)  # type: ignore[arg-type]

    return serializer


def serve_batches_as_bytes(methods: MethodTable) -> None:
    """Every Watch method of the table answers with a serializer that passes bytes through."""
    for name, handler in list(methods.handlers.items()):
        if name.endswith("/Watch") and handler.unary_stream is not None:
            methods.handlers[name] = grpc.unary_stream_rpc_method_handler(
                handler.unary_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=bytes_passing(handler.response_serializer),
            )
