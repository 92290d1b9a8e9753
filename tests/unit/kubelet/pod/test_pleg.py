"""The PLEG hands a pod to the workers when its containers change state, and only then; following
the runtime's container events (EventedPLEG), it relists when one comes, at most once a second,
and every 300 s regardless."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from kubelet.pod.pleg import PodLifecycleEventGenerator
from kubelet.runtime.hollow import HollowRuntime
from kubelet.runtime.types import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    PodRef,
    SandboxConfig,
    Unimplemented,
)
from tests.unit.kubelet.loop_clock import LoopClock, stop_loop_clock

POD = PodRef(uid="uid-1", name="web", namespace="default")


def state(pleg: PodLifecycleEventGenerator, container_id: str) -> ContainerState | None:
    found = pleg.relisted(container_id)
    return None if found is None else found.state


async def test_changes_enqueue_the_pod_key() -> None:
    runtime = HollowRuntime()
    changed: list[str] = []
    pleg = PodLifecycleEventGenerator(runtime, changed.append)
    await pleg.relist()
    assert changed == []
    sandbox = await runtime.run_pod_sandbox(
        SandboxConfig(pod=POD, attempt=0, hostname="web", image="podplane/pause:3.9")
    )
    cid = await runtime.create_container(
        sandbox, ContainerConfig(pod=POD, name="a", image="busybox:latest", restart_count=0)
    )
    await pleg.relist()
    assert changed == ["default/web"] and state(pleg, cid) == ContainerState.CREATED
    await runtime.start_container(cid)
    assert state(pleg, cid) == ContainerState.CREATED  # the pod's status follows the relists
    await pleg.relist()
    assert changed == ["default/web"] * 2 and state(pleg, cid) == ContainerState.RUNNING
    await pleg.relist()
    assert changed == ["default/web"] * 2  # nothing changed
    runtime.exit_container(cid, 0)
    assert state(pleg, cid) == ContainerState.RUNNING
    await pleg.relist()
    assert changed == ["default/web"] * 3 and state(pleg, cid) == ContainerState.EXITED
    assert pleg.pods_in_runtime == {"default/web": {"uid-1"}}
    await runtime.remove_container(cid)
    await runtime.remove_pod_sandbox(sandbox)
    await pleg.relist()
    assert changed == ["default/web"] * 4 and pleg.pods_in_runtime == {}
    assert pleg.relisted(cid) is None


def test_runtime_unhealthy_after_three_minutes_without_a_relist() -> None:
    now = [0.0]
    pleg = PodLifecycleEventGenerator(HollowRuntime(), lambda _: None, clock=lambda: now[0])
    assert pleg.not_healthy() is None
    now[0] = 181.0
    assert "container runtime is down" in (pleg.not_healthy() or "")


class EventedRuntime(HollowRuntime):
    """A hollow runtime with container events: the test sends each event, or ends the stream
    with an error; while `down`, a stream breaks as it opens. It counts the relists (one
    ListContainers each) and the streams opened."""

    def __init__(self) -> None:
        super().__init__()
        self.relists = 0
        self.streams = 0
        self.down = False
        self.sent: asyncio.Queue[str | ContainerRuntimeError] = asyncio.Queue()

    async def list_containers(self, pod_uid: str | None = None) -> list[ContainerStatus]:
        self.relists += 1
        return await super().list_containers(pod_uid)

    async def container_events(self) -> AsyncIterator[str]:
        self.streams += 1
        if self.down:
            raise ContainerRuntimeError("the runtime is not reachable")
        while True:
            item = await self.sent.get()
            if isinstance(item, ContainerRuntimeError):
                raise item
            yield item


@pytest_asyncio.fixture
async def evented(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[EventedRuntime, PodLifecycleEventGenerator, LoopClock, list[str]]]:
    """A PLEG following an EventedRuntime's events (relist period 1 s, evented 300 s), run on
    a stopped loop clock, after its first relists are done."""
    clock = stop_loop_clock(monkeypatch)
    runtime = EventedRuntime()
    changed: list[str] = []
    pleg = PodLifecycleEventGenerator(runtime, changed.append, clock=clock, evented=True)
    task = asyncio.create_task(pleg.run())
    await clock.advance(1.0)  # the first relist, and the one for the stream's opening
    yield runtime, pleg, clock, changed
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_following_events_it_relists_when_one_comes_and_every_300_s(
    evented: tuple[EventedRuntime, PodLifecycleEventGenerator, LoopClock, list[str]],
) -> None:
    runtime, pleg, clock, changed = evented
    assert pleg.following and runtime.streams == 1 and runtime.relists == 2
    await clock.advance(100.0)
    assert runtime.relists == 2  # at rest: no relist a second
    sandbox = await runtime.run_pod_sandbox(
        SandboxConfig(pod=POD, attempt=0, hostname="web", image="podplane/pause:3.9")
    )
    runtime.sent.put_nowait(sandbox)
    await clock.advance(0)
    assert runtime.relists == 3 and changed == ["default/web"]
    # Two events within a relist period: one relist for both, a period after the last one.
    cid = await runtime.create_container(
        sandbox, ContainerConfig(pod=POD, name="a", image="busybox:latest", restart_count=0)
    )
    runtime.sent.put_nowait(cid)
    runtime.sent.put_nowait(cid)
    await clock.advance(0.5)
    assert runtime.relists == 3 and state(pleg, cid) is None
    await clock.advance(0.5)
    assert runtime.relists == 4 and state(pleg, cid) == ContainerState.CREATED
    await clock.advance(1.0)
    await clock.advance(298.0)
    assert runtime.relists == 4
    await clock.advance(1.0)  # 300 s after the last relist
    assert runtime.relists == 5 and pleg.not_healthy() is None


async def test_a_broken_stream_means_a_relist_a_second_until_it_is_back(
    evented: tuple[EventedRuntime, PodLifecycleEventGenerator, LoopClock, list[str]],
) -> None:
    runtime, pleg, clock, _ = evented
    await clock.advance(10.0)
    assert runtime.relists == 2
    runtime.down = True
    runtime.sent.put_nowait(ContainerRuntimeError("the runtime is not reachable"))
    await clock.advance(0)
    assert not pleg.following and runtime.relists == 3
    for relists in (4, 5, 6):
        await clock.advance(1.0)  # a relist, and the stream tried again (and broken again)
        assert not pleg.following and runtime.relists == relists
    assert runtime.streams == 4
    runtime.down = False
    await clock.advance(1.0)  # the stream, tried again, is open, and a relist follows
    await clock.advance(1.0)
    assert pleg.following and runtime.streams == 5 and runtime.relists >= 7
    relists = runtime.relists
    await clock.advance(100.0)
    assert runtime.relists == relists


class NoEventsRuntime(EventedRuntime):
    async def container_events(self) -> AsyncIterator[str]:
        self.streams += 1
        raise Unimplemented("unknown method GetContainerEvents")
        yield ""  # an async generator, as a runtime's stream is


async def test_a_runtime_without_events_is_relisted_every_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = stop_loop_clock(monkeypatch)
    runtime = NoEventsRuntime()
    pleg = PodLifecycleEventGenerator(runtime, lambda _: None, clock=clock, evented=True)
    task = asyncio.create_task(pleg.run())
    for _ in range(5):
        await clock.advance(1.0)
    assert not pleg.following and runtime.streams == 1 and runtime.relists == 6
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_without_the_gate_or_events_there_is_nothing_to_follow() -> None:
    assert PodLifecycleEventGenerator(EventedRuntime(), lambda _: None).events is None
    hollow = PodLifecycleEventGenerator(HollowRuntime(), lambda _: None, evented=True)
    assert hollow.events is None


async def test_the_runtime_is_unhealthy_after_ten_minutes_without_a_relist_while_following(
    evented: tuple[EventedRuntime, PodLifecycleEventGenerator, LoopClock, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime, pleg, clock, _ = evented

    async def failing(pod_uid: str | None = None) -> list[ContainerStatus]:
        raise ContainerRuntimeError("the runtime is not reachable")

    monkeypatch.setattr(runtime, "list_containers", failing)
    for _ in range(2):
        await clock.advance(300.0)  # the 300 s relists fail
    assert pleg.not_healthy() is None
    await clock.advance(1.0)
    assert "PLEG was last seen active 601s ago" in (pleg.not_healthy() or "")
    # The stream lost for good: relisting every second from then on, unhealthy 3 minutes
    # after the last relist or the loss, whichever is later.
    runtime.down = True
    runtime.sent.put_nowait(ContainerRuntimeError("the runtime is not reachable"))
    await clock.advance(0)
    assert not pleg.following and pleg.not_healthy() is None
    for _ in range(180):
        await clock.advance(1.0)
    assert not pleg.following and pleg.not_healthy() is None
    await clock.advance(1.0)
    assert "PLEG was last seen active 181s ago" in (pleg.not_healthy() or "")
