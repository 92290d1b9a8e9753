"""What every kind's messages share, which protobuf's Message type does not say: an object's
ObjectMeta and type meta (apimachinery's metav1.Object and meta.Accessor), a list's items and
ListMeta (metav1.ListInterface), a watch event's type and object (watch.Event), and the owner
that controls an object (metav1.GetControllerOf)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar, cast

from google.protobuf.message import Message

from podplane.api.meta.v1 import meta_pb2

T_co = TypeVar("T_co", bound=Message, covariant=True)


class Object(Protocol):
    """An API object of any kind (Pod, Node, Deployment, ...)."""

    api_version: str
    kind: str

    @property
    def metadata(self) -> meta_pb2.ObjectMeta: ...


class ObjectList(Protocol[T_co]):
    """A List response of any kind (PodList, NodeList, ...)."""

    @property
    def metadata(self) -> meta_pb2.ListMeta: ...

    @property
    def items(self) -> Sequence[T_co]: ...


class WatchEvent(Protocol[T_co]):
    """One event of a watch of any kind (PodWatchEvent, ...): ADDED, MODIFIED, DELETED or
    BOOKMARK, and the object."""

    @property
    def type(self) -> str: ...

    @property
    def object(self) -> T_co: ...


def accessor(obj: Message) -> Object:
    """`obj` seen as the API object it is (apimachinery's meta.Accessor): every kind's message has
    metadata, apiVersion and kind, which code serving every kind through one TypeVar (bound to
    Message) cannot otherwise reach."""
    return cast(Object, obj)


def object_meta(obj: Message) -> meta_pb2.ObjectMeta:
    """The object's ObjectMeta (accessor(obj).metadata, one call less on informers' paths)."""
    return cast(Object, obj).metadata


class WithMetadata(Protocol):
    @property
    def metadata(self) -> meta_pb2.ObjectMeta: ...


def controller_of(obj: WithMetadata) -> meta_pb2.OwnerReference | None:
    """The ownerReference with controller: true, if any (metav1.GetControllerOf)."""
    for ref in obj.metadata.owner_references:
        if ref.HasField("controller") and ref.controller:
            return ref
    return None
