"""The Reserve extension point: Reserve plugins run in order once a pod is assumed; when one fails,
or the bind fails later, every Reserve plugin's Unreserve runs in reverse order and the pod is
forgotten and retried (kubernetes framework RunReservePluginsReserve/Unreserve)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import grpc
import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.framework.interfaces import PluginArgs, ReservePlugin
from scheduler.framework.registry import Registry
from scheduler.framework.runtime import Framework, PluginSpec, Profile
from scheduler.framework.status import SUCCESS, Code, Status
from scheduler.framework.types import CycleState
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler
from tests.unit.scheduler.fakes import FakeClient, wait_until
from tests.unit.scheduler.schedtest import node, pod

Calls = list[tuple[str, str, str]]


class Recorder:
    """Records reserve/unreserve calls in a shared list; rejects the pods named in
    args["reject"]."""

    def __init__(self, name: str, calls: Calls, args: PluginArgs) -> None:
        self.name = name
        self.calls = calls
        self.reject = set(args.get("reject", ()))

    def reserve(self, state: CycleState, the_pod: core_pb2.Pod, node_name: str) -> Status:
        self.calls.append(("reserve", self.name, node_name))
        if the_pod.metadata.name in self.reject:
            return Status.unschedulable(f"{self.name} has no room on {node_name}")
        return SUCCESS

    def unreserve(self, state: CycleState, the_pod: core_pb2.Pod, node_name: str) -> None:
        self.calls.append(("unreserve", self.name, node_name))


def _registry(calls: Calls) -> Registry:
    registry = in_tree_registry()
    for name in ("R1", "R2", "R3"):
        registry.register(name, lambda args, name=name: Recorder(name, calls, args))  # type: ignore[misc]
    return registry


def test_reserve_runs_in_order_and_stops_at_the_first_rejection() -> None:
    calls: Calls = []
    fw = Framework(
        _registry(calls),
        Profile(
            plugins=(PluginSpec("R1"), PluginSpec("R2", args={"reject": ["p"]}), PluginSpec("R3"))
        ),
    )
    assert all(isinstance(p, ReservePlugin) for p in fw.plugins.values())
    status = fw.run_reserve(CycleState(), pod("p"), "n1")
    assert status.code is Code.UNSCHEDULABLE and status.plugin == "R2"
    assert calls == [("reserve", "R1", "n1"), ("reserve", "R2", "n1")]
    calls.clear()
    fw.run_unreserve(CycleState(), pod("p"), "n1")
    assert calls == [
        ("unreserve", "R3", "n1"),
        ("unreserve", "R2", "n1"),
        ("unreserve", "R1", "n1"),
    ]
    assert fw.run_reserve(CycleState(), pod("q"), "n1").is_success


@pytest.fixture
def run_scheduler() -> Iterator[Callable[[Scheduler], Awaitable[None]]]:
    tasks: list[asyncio.Task[None]] = []

    async def start(scheduler: Scheduler) -> None:
        tasks.append(asyncio.ensure_future(scheduler.run()))
        async with asyncio.timeout(5):
            await scheduler.wait_synced()

    yield start
    for task in tasks:
        task.cancel()


def _scheduler(client: FakeClient, calls: Calls, reject: list[str]) -> Scheduler:
    profile = default_profile()
    profile = Profile(
        plugins=(*profile.plugins, PluginSpec("R1"), PluginSpec("R2", args={"reject": reject}))
    )
    return Scheduler(
        client,  # type: ignore[arg-type]
        Framework(_registry(calls), profile),
        queue=SchedulingQueue(initial_backoff=0.05, max_backoff=0.2),
        flush_interval=0.01,
    )


async def test_a_rejected_reservation_is_undone_and_the_pod_not_bound(
    run_scheduler: Callable[[Scheduler], Awaitable[None]],
) -> None:
    calls: Calls = []
    client = FakeClient([node("node-1")], [pod("p")])
    scheduler = _scheduler(client, calls, reject=["p"])
    await run_scheduler(scheduler)
    await wait_until(lambda: bool(client.events.created))
    event = client.events.created[0]
    assert (event.reason, event.message) == ("FailedScheduling", "R2 has no room on node-1")
    assert calls[:4] == [
        ("reserve", "R1", "node-1"),
        ("reserve", "R2", "node-1"),
        ("unreserve", "R2", "node-1"),
        ("unreserve", "R1", "node-1"),
    ]
    assert client.binds == [] and not scheduler.cache.is_assumed(pod("p"))
    info = scheduler.cache.node_info("node-1")
    assert info is not None and not info.pods


async def test_a_failed_bind_unreserves_in_reverse_order(
    run_scheduler: Callable[[Scheduler], Awaitable[None]],
) -> None:
    calls: Calls = []
    client = FakeClient([node("node-1")], [pod("p")])
    client.bind_failures = [grpc.StatusCode.UNAVAILABLE]
    await run_scheduler(_scheduler(client, calls, reject=[]))
    await wait_until(lambda: client.binds == [("p", "node-1")])
    assert calls == [
        ("reserve", "R1", "node-1"),
        ("reserve", "R2", "node-1"),
        ("unreserve", "R2", "node-1"),
        ("unreserve", "R1", "node-1"),
        ("reserve", "R1", "node-1"),
        ("reserve", "R2", "node-1"),
    ]
