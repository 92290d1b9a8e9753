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
        return self.items[f"{namespace}/{name}"]

    async def create(self, obj: Any) -> Any:
        self.created.append(obj)
        return obj

    async def update(self, obj: Any) -> Any:
        self.updated.append(obj)
        return obj

    async def update_status(self, obj: Any) -> Any:
        self.status_updates.append(obj)
        self.emit("MODIFIED", obj)
        return obj


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


async def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
