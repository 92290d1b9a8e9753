"""A fake apiserver client for the scheduler's loop: pods, nodes and events held in memory, watch
events the test emits, binds recorded (and failed on request); and the small waits the loop tests
use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from tests.unit import waiting


def not_found(name: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(
        grpc.StatusCode.NOT_FOUND,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(),
        details=f'pods "{name}" not found',
    )


def copy_of(obj: Any) -> Any:
    new = type(obj)()
    new.CopyFrom(obj)
    return new


class FakeResource:
    def __init__(
        self,
        resource: Resource[Any],
        event_type: type[Any],
        items: list[Any] = (),  # type: ignore[assignment]
    ) -> None:
        self.resource = resource
        self.event_type = event_type
        self.items = {f"{o.metadata.namespace}/{o.metadata.name}": o for o in items}
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.created: list[Any] = []
        self.updated: list[Any] = []
        self.status_updates: list[Any] = []
        self.deleted: list[tuple[str, str, str]] = []

    def emit(self, kind: str, obj: Any) -> None:
        self.items[f"{obj.metadata.namespace}/{obj.metadata.name}"] = obj
        self.events.put_nowait(self.event_type(type=kind, object=obj))

    async def list_all(self, namespace: str = "", **_: Any) -> tuple[list[Any], str]:
        return list(self.items.values()), "1"

    def watch(self, namespace: str = "", **_: Any) -> AsyncIterator[Any]:
        async def stream() -> AsyncIterator[Any]:
            while True:
                yield await self.events.get()

        return stream()

    async def get(self, name: str, namespace: str = "") -> Any:
        try:
            return self.items[f"{namespace}/{name}"]
        except KeyError:
            raise not_found(name) from None

    async def create(self, obj: Any) -> Any:
        self.created.append(obj)
        return obj

    async def update(self, obj: Any) -> Any:
        self.updated.append(obj)
        return obj

    async def update_status(self, obj: Any) -> Any:
        key = f"{obj.metadata.namespace}/{obj.metadata.name}"
        if key not in self.items:
            raise not_found(obj.metadata.name)
        self.status_updates.append(obj)
        self.emit("MODIFIED", obj)
        return obj

    async def delete(self, name: str, namespace: str = "", *, uid: str = "", **_: Any) -> Any:
        """A graceful deletion: the object is marked (deletionTimestamp) until the test removes
        it with remove(), as a kubelet would."""
        obj = self.items.get(f"{namespace}/{name}")
        if obj is None or (uid and obj.metadata.uid != uid):
            raise not_found(name)
        self.deleted.append((namespace, name, uid))
        marked = copy_of(obj)
        marked.metadata.deletion_timestamp = "2024-05-01T12:00:30Z"
        self.emit("MODIFIED", marked)
        return marked

    def remove(self, namespace: str, name: str) -> None:
        obj = self.items.pop(f"{namespace}/{name}")
        self.events.put_nowait(self.event_type(type="DELETED", object=obj))


class FakeClient:
    def __init__(self, nodes: list[Any], pods: list[Any]) -> None:
        self.pods = FakeResource(resources.POD, core_pb2.PodWatchEvent, pods)
        self.nodes = FakeResource(resources.NODE, core_pb2.NodeWatchEvent, nodes)
        self.events = FakeResource(resources.EVENT, core_pb2.EventWatchEvent)
        self.bind_failures: list[grpc.StatusCode] = []
        self.binds: list[tuple[str, str]] = []

    def for_resource(self, resource: Any) -> FakeResource:
        resource_client: FakeResource = getattr(self, resource.plural)
        return resource_client

    async def bind(self, namespace: str, name: str, node_name: str, uid: str = "") -> Any:
        await asyncio.sleep(0.01)
        if self.bind_failures:
            code = self.bind_failures.pop(0)
            raise grpc.aio.AioRpcError(
                code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="etcd is having a bad day"
            )
        bound = copy_of(self.pods.items[f"{namespace}/{name}"])
        bound.spec.node_name = node_name
        self.binds.append((name, node_name))
        self.pods.emit("MODIFIED", bound)
        return bound


async def wait_until(check: Callable[[], bool], timeout: float = waiting.TIMEOUT) -> None:
    await waiting.until(check, "the condition", interval=0.01, timeout=timeout)
