"""NamespaceLifecycle (kubernetes plugin/pkg/admission/namespace/lifecycle): nothing is created in a
namespace that does not exist or is being deleted."""

from __future__ import annotations

import time
from typing import Protocol

from google.protobuf.message import Message

from apiserver import errors
from apiserver.admission.attributes import CREATE, DELETE, UPDATE, Attributes
from apiserver.admission.interfaces import Handler
from apiserver.objects import object_meta
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource

# How long after a namespace's deletion was admitted its cached copy is not trusted to be current
# (kubernetes forceLiveLookupTTL).
FORCE_LIVE_LOOKUP_SECONDS = 30.0


class NamespaceReader(Protocol):
    """Reads a namespace from storage (the namespaces Store); NotFound if there is none."""

    async def get(self, namespace: str, name: str) -> core_pb2.Namespace: ...


class NamespaceCache(Protocol):
    """The watch cache's copy of a namespace (the namespaces Cacher), None if it has none."""

    def peek(self, namespace: str, name: str) -> core_pb2.Namespace | None: ...


def _terminating(ns: core_pb2.Namespace) -> bool:
    return bool(ns.metadata.deletion_timestamp or ns.status.phase == "Terminating")


class NamespaceLifecycle(Handler):
    """Mutating only, as Kubernetes' Lifecycle.Admit (it changes nothing, but runs first): a
    create in a namespace is checked; a namespace's delete is noted, so that its cached copy is
    not trusted for a while."""

    def __init__(self, namespaces: NamespaceReader, cache: NamespaceCache | None = None) -> None:
        super().__init__(CREATE, UPDATE, DELETE)
        self._namespaces = namespaces
        self._cache = cache
        # Namespace -> until when a cached copy that is not terminating is read again from etcd:
        # the watch cache may not show a deletion just admitted yet.
        self._force_live_lookup: dict[str, float] = {}

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation == DELETE and isinstance(attrs.old_object, core_pb2.Namespace):
            self._deleting(attrs.old_object.metadata.name)
        elif attrs.operation == CREATE and attrs.namespace and attrs.object is not None:
            await self._check_namespace(attrs.object, attrs.namespace, attrs.resource)

    def _deleting(self, name: str) -> None:
        now = time.monotonic()
        self._force_live_lookup = {
            name: until for name, until in self._force_live_lookup.items() if until > now
        }
        self._force_live_lookup[name] = now + FORCE_LIVE_LOOKUP_SECONDS

    async def _lookup(self, name: str) -> core_pb2.Namespace | None:
        if self._cache is not None:
            cached = self._cache.peek("", name)
            if cached is not None and (
                _terminating(cached) or self._force_live_lookup.get(name, 0.0) <= time.monotonic()
            ):
                return cached
        # Not cached (yet): a namespace created a moment ago may not have reached the cache; or
        # its deletion was admitted a moment ago and the cache may not show it yet.
        try:
            return await self._namespaces.get("", name)
        except errors.APIError as e:
            if e.reason == "NotFound":
                return None
            raise

    async def _check_namespace(self, obj: Message, namespace: str, resource: Resource) -> None:
        ns = await self._lookup(namespace)
        if ns is None:
            raise errors.not_found(resources.NAMESPACE, namespace)
        # Events about what is being torn down are still wanted.
        if _terminating(ns) and not isinstance(obj, core_pb2.Event):
            meta = object_meta(obj)
            raise errors.forbidden(
                resource,
                meta.name or meta.generate_name,
                f"unable to create new content in namespace {namespace} "
                f"because it is being terminated",
            )
