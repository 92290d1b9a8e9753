"""The API objects the apiserver stores, as types. Each kind is a protobuf message (core_pb2.Pod,
apps_pb2.Deployment, ...) with `metadata`, and has a list message and a watch event message of its
own. Protobuf messages share no base class that has `metadata`: object_meta() reads it, typed, as
Kubernetes' meta.Accessor does for any object."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Protocol, TypeVar

from google.protobuf.internal.containers import RepeatedCompositeFieldContainer
from google.protobuf.message import Message

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2

# An API object of one kind: code that serves every kind is generic over it.
T = TypeVar("T", bound=Message)

# obj.metadata, for a message of any kind (attrgetter: a C call, cheap on the watch paths).
object_meta: Callable[[Message], meta_pb2.ObjectMeta] = operator.attrgetter("metadata")


class ListMessage(Protocol[T]):
    """A kind's list message (core_pb2.PodList, ...): the items and the list's resourceVersion."""

    metadata: meta_pb2.ListMeta
    items: RepeatedCompositeFieldContainer[T]


class WatchMessage(Protocol[T]):
    """A kind's watch event message (core_pb2.PodWatchEvent, ...): ADDED, MODIFIED, DELETED or
    BOOKMARK, and the object."""

    type: str
    object: T

    def ByteSize(self) -> int: ...

    def SerializeToString(self) -> bytes: ...


# A container of a pod: an app or init container, or an ephemeral one (which has the same fields
# but for resources, ports and probes, refused by validation).
Container = core_pb2.Container | core_pb2.EphemeralContainer


def pod_containers(spec: core_pb2.PodSpec) -> list[Container]:
    """Every container of a pod: init, then app, then ephemeral (podutil.VisitContainers)."""
    return [*spec.init_containers, *spec.containers, *spec.ephemeral_containers]
