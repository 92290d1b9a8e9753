"""How a kind's objects are written to etcd and read back, and the resourceVersions a request
names. Objects are stored without their resourceVersion, which is the key's etcd mod_revision."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from google.protobuf.message import Message

from apiserver import errors
from apiserver.objects import T, object_meta

MAX_OBJECT_BYTES = 3 * 1024 * 1024 // 2  # 1.5 MiB, etcd's default request limit
MAX_INT64 = 2**63 - 1
_DIGITS = re.compile(r"[0-9]+")
# The storage version's message of a ConvertingCodec.
S = TypeVar("S", bound=Message)


def parse_resource_version(value: str, path: str = "resourceVersion") -> int:
    """A resourceVersion as Go's strconv reads it (ASCII digits only, no sign or spaces), and one
    etcd can be asked about: its revisions are int64s."""
    if not value:
        return 0
    if _DIGITS.fullmatch(value) and int(value) <= MAX_INT64:
        return int(value)
    raise errors.bad_request(f'{path}: Invalid value: "{value}": must be a non-negative integer')


def set_type(obj: Message, api_version: str, kind: str) -> None:
    """Sets the object's TypeMeta: every kind has apiVersion and kind; Message declares neither."""
    for field, value in (("api_version", api_version), ("kind", kind)):
        setattr(obj, field, value)


class StorageCodec(Protocol[T]):
    """How a kind's objects are written to etcd and read back: without their resourceVersion,
    and the same object always as the same bytes (an update that changes nothing is not
    written)."""

    def encode(self, obj: T) -> bytes: ...

    def decode(self, data: bytes) -> T: ...


class ProtobufCodec(Generic[T]):
    """The built-in kinds' storage: their protobuf message."""

    def __init__(self, new: Callable[[], T]) -> None:
        self.new = new

    def encode(self, obj: T) -> bytes:
        # Deterministic: map entries (labels, annotations, data) in key order, whatever order they
        # were set in, so that an update that changes nothing encodes to the stored bytes and is
        # not written (as Kubernetes compares the encoded object with etcd's in GuaranteedUpdate).
        if not object_meta(obj).resource_version:  # a create's: nothing to leave out
            data: bytes = obj.SerializeToString(deterministic=True)
            return data
        stored = type(obj)()
        stored.CopyFrom(obj)
        object_meta(stored).resource_version = ""
        data = stored.SerializeToString(deterministic=True)
        return data

    def decode(self, data: bytes) -> T:
        obj = self.new()
        obj.ParseFromString(data)
        return obj


class ConvertingCodec(Generic[T, S]):
    """A served version's objects kept in another version's message (an additional version of a
    built-in kind, stored at the kind's storage version): converted on encode, and back on
    decode, so every version reads and writes the same keys and bytes."""

    def __init__(
        self, new_stored: Callable[[], S], to_storage: Callable[[T], S], to_served: Callable[[S], T]
    ) -> None:
        self.stored = ProtobufCodec(new_stored)
        self.to_storage = to_storage
        self.to_served = to_served

    def encode(self, obj: T) -> bytes:
        stored = self.to_storage(obj)
        object_meta(stored).resource_version = ""
        data: bytes = stored.SerializeToString(deterministic=True)
        return data

    def decode(self, data: bytes) -> T:
        return self.to_served(self.stored.decode(data))
