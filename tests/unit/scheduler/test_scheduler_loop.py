"""The scheduler's loop against a fake apiserver client: binds in the background, records events,
writes PodScheduled=False when nothing fits, and un-assumes and retries after a failed bind.
(tests/integration/test_scheduler.py runs the same against a real apiserver and etcd.)"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.scheduler import Scheduler
from tests.unit.scheduler.schedtest import node, pod


def _copy(obj: Any) -> Any:
    new = type(obj)()
    new.CopyFrom(obj)
    return new


class FakeResource:
    def __init__(self, event_type: type[Any], items: list[Any] = ()) -> None:  # type: ignore[assignment]
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
        self.pods = FakeResource(core_pb2.PodWatchEvent, pods)
        self.nodes = FakeResource(core_pb2.NodeWatchEvent, nodes)
        self.events = FakeResource(core_pb2.EventWatchEvent)
        self.bind_failures: list[grpc.StatusCode] = []
        self.binds: list[tuple[str, str]] = []

    async def bind(self, namespace: str, name: str, node_name: str, uid: str = "") -> Any:
        await asyncio.sleep(0.01)
        if self.bind_failures:
            code = self.bind_failures.pop(0)
            raise grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(),
                                       details="etcd is having a bad day")
        bound = _copy(self.pods.items[f"{namespace}/{name}"])
        bound.spec.node_name = node_name
        self.binds.append((name, node_name))
        self.pods.emit("MODIFIED", bound)
        return bound


async def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
def run_scheduler() -> Any:
    started: list[tuple[Scheduler, asyncio.Task[None]]] = []

    async def start(client: FakeClient) -> Scheduler:
        queue = SchedulingQueue(initial_backoff=0.05, max_backoff=0.2)
        scheduler = Scheduler(client, Framework(in_tree_registry(), default_profile()),  # type: ignore[arg-type]
                              queue=queue, flush_interval=0.01)
        started.append((scheduler, asyncio.ensure_future(scheduler.run())))
        await asyncio.wait_for(scheduler.wait_synced(), 5)
        return scheduler

    yield start
    for scheduler, task in started:
        task.cancel()


async def test_pods_are_bound_and_reported(run_scheduler: Any) -> None:
    client = FakeClient([node("node-1", cpu="2"), node("node-2", cpu="2")],
                        [pod(f"p{i}", cpu="1") for i in range(4)])
    await run_scheduler(client)
    await _eventually(lambda: len(client.binds) == 4)
    assert sorted(n for _, n in client.binds) == ["node-1", "node-1", "node-2", "node-2"]
    await _eventually(lambda: len(client.events.created) == 4)
    event = next(e for e in client.events.created if e.involved_object.name == "p0")
    node_name = dict(client.binds)["p0"]
    assert (event.type, event.reason, event.count) == ("Normal", "Scheduled", 1)
    assert event.message == f"Successfully assigned default/p0 to {node_name}"
    assert event.source.component == event.reporting_component == "default-scheduler"
    assert event.involved_object.kind == "Pod" and event.first_timestamp == event.last_timestamp


async def test_a_pod_that_fits_nowhere_says_why_and_waits_for_a_node(run_scheduler: Any) -> None:
    client = FakeClient([node("node-1", cpu="1")], [pod("big", cpu="2")])
    await run_scheduler(client)
    await _eventually(lambda: bool(client.pods.status_updates))
    condition = client.pods.status_updates[-1].status.conditions[0]
    message = "0/1 nodes are available: 1 Insufficient cpu."
    assert (condition.type, condition.status, condition.reason, condition.message) == \
        ("PodScheduled", "False", "Unschedulable", message)
    await _eventually(lambda: bool(client.events.created))
    event = client.events.created[0]
    assert (event.type, event.reason, event.message) == ("Warning", "FailedScheduling", message)
    client.nodes.emit("ADDED", node("node-2", cpu="4"))
    await _eventually(lambda: client.binds == [("big", "node-2")])
    assert len(client.pods.status_updates) == 1


async def test_a_failed_bind_is_forgotten_and_retried(run_scheduler: Any) -> None:
    client = FakeClient([node("node-1", cpu="1")], [pod("p", cpu="1")])
    client.bind_failures = [grpc.StatusCode.UNAVAILABLE]
    scheduler = await run_scheduler(client)
    await _eventually(lambda: bool(client.pods.status_updates))
    condition = client.pods.status_updates[-1].status.conditions[0]
    assert condition.reason == "SchedulerError"
    assert condition.message.startswith("Binding rejected: UNAVAILABLE")
    await _eventually(lambda: client.binds == [("p", "node-1")])
    info = scheduler.cache.node_info("node-1")
    assert info is not None and info.requested.milli_cpu == 1000 and len(info.pods) == 1
