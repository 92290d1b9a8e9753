"""An in-memory apiserver for podctl's unit tests: enough of podplane.client.clientset.Client to run
the verbs."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, resources
from podplane.apimachinery.resources import Resource

CREATED_AT = "2026-11-21T15:00:00Z"
M = TypeVar("M", bound=Message)


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


def obj(message: type[M], data: dict[str, Any]) -> M:
    """An API object from its manifest form."""
    return manifest.from_dict(data, message)


class FakeResourceClient:
    def __init__(self, resource: Resource, revisions: itertools.count[int]) -> None:
        self.resource = resource
        self.store: dict[tuple[str, str], Any] = {}
        self.deleted: list[tuple[str, str, int | None]] = []
        # What watch() streams: (type, object) pairs, then the stream ends.
        self.watch_events: list[tuple[str, Any]] = []
        self.watched_from: list[str] = []
        # Graceful deletion that never completes (no kubelet confirms it).
        self.graceful = False
        self._revisions = revisions

    def _key(self, name: str, namespace: str) -> tuple[str, str]:
        return (namespace if self.resource.namespaced else "", name)

    def _not_found(self, name: str) -> grpc.aio.AioRpcError:
        return rpc_error(grpc.StatusCode.NOT_FOUND, f'{self.resource.plural} "{name}" not found')

    def _stored(self, o: Any) -> Any:
        copy = type(o)()
        copy.CopyFrom(o)
        copy.metadata.resource_version = str(next(self._revisions))
        return copy

    async def create(self, o: Any) -> Any:
        key = self._key(o.metadata.name, o.metadata.namespace)
        if key in self.store:
            raise rpc_error(
                grpc.StatusCode.ALREADY_EXISTS,
                f'{self.resource.plural} "{o.metadata.name}" already exists',
            )
        stored = self._stored(o)
        stored.metadata.uid = f"uid-{o.metadata.name}"
        stored.metadata.creation_timestamp = CREATED_AT
        self.store[key] = stored
        return stored

    async def get(self, name: str, namespace: str = "") -> Any:
        try:
            return self.store[self._key(name, namespace)]
        except KeyError:
            raise self._not_found(name) from None

    async def list_all(
        self,
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        page_size: int = 500,
    ) -> tuple[list[Any], str]:
        items = [o for (ns, _), o in sorted(self.store.items()) if not namespace or ns == namespace]
        return items, "100"

    async def update(self, o: Any) -> Any:
        key = self._key(o.metadata.name, o.metadata.namespace)
        live = self.store.get(key)
        if live is None:
            raise self._not_found(o.metadata.name)
        if o.metadata.resource_version != live.metadata.resource_version:
            raise rpc_error(grpc.StatusCode.ABORTED, "the object has been modified")
        stored = self._stored(o)
        stored.status.CopyFrom(live.status) if self.resource.has_status else None
        self.store[key] = stored
        return stored

    async def delete(
        self, name: str, namespace: str = "", *, grace_period_seconds: int | None = None, **_: Any
    ) -> Any:
        o = await self.get(name, namespace)
        self.deleted.append((namespace, name, grace_period_seconds))
        if self.graceful:
            o.metadata.deletion_timestamp = CREATED_AT
            return o
        del self.store[self._key(name, namespace)]
        return o

    async def watch(
        self, namespace: str = "", *, resource_version: str = "", **_: Any
    ) -> AsyncIterator[Any]:
        self.watched_from.append(resource_version)
        for event_type, o in self.watch_events:
            event = self.resource.watch_event()
            event.type = event_type
            event.object.CopyFrom(o)
            yield event


class FakeClient:
    def __init__(self) -> None:
        revisions = itertools.count(1)
        self.pods = FakeResourceClient(resources.POD, revisions)
        self.nodes = FakeResourceClient(resources.NODE, revisions)
        self.namespaces = FakeResourceClient(resources.NAMESPACE, revisions)
        self.events = FakeResourceClient(resources.EVENT, revisions)
        self.leases = FakeResourceClient(resources.LEASE, revisions)
        self.persistentvolumes = FakeResourceClient(resources.PERSISTENT_VOLUME, revisions)
        self.persistentvolumeclaims = FakeResourceClient(
            resources.PERSISTENT_VOLUME_CLAIM, revisions
        )
        self.storageclasses = FakeResourceClient(resources.STORAGE_CLASS, revisions)
        self.logs: dict[tuple[str, str, str], bytes] = {}

    def for_resource(self, resource: Resource) -> FakeResourceClient:
        client: FakeResourceClient = getattr(self, resource.plural)
        return client

    async def pod_logs(
        self, namespace: str, name: str, *, container: str = "", **_: Any
    ) -> AsyncIterator[core_pb2.LogChunk]:
        yield core_pb2.LogChunk(data=self.logs[(namespace, name, container)])

    def connector(self) -> Any:
        @asynccontextmanager
        async def connect(server: str) -> AsyncIterator[FakeClient]:
            yield self

        return connect
