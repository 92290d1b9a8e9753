"""An event recorder with a queue writes one event at a time and drops what does not fit, as
client-go's event broadcaster does; without a queue every event is written at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client import events
from podplane.client.events import NORMAL, EventRecorder
from tests.unit.waiting import until


class _Events:
    def __init__(self) -> None:
        self.created: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def create(self, event: Any) -> Any:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        self.created.append(event.involved_object.name)
        return event


class _Client:
    def __init__(self) -> None:
        self.events = _Events()


def _pod(name: str) -> core_pb2.Pod:
    return core_pb2.Pod(metadata=meta_pb2.ObjectMeta(name=name, namespace="ns", uid=f"uid-{name}"))


async def test_a_queued_recorder_writes_one_at_a_time_in_order_and_drops_when_full() -> None:
    client = _Client()
    recorder = EventRecorder(client, "scheduler", max_queued=3)  # type: ignore[arg-type]
    for i in range(5):
        recorder.record(_pod(f"p{i}"), NORMAL, "Scheduled", f"assigned p{i}")
    assert recorder.dropped == 2
    await recorder.flush(5)
    assert client.events.created == ["p0", "p1", "p2"]
    assert client.events.most_in_flight == 1
    recorder.record(_pod("later"), NORMAL, "Scheduled", "assigned later")
    await recorder.flush(5)
    assert client.events.created[-1] == "later"


async def test_without_a_queue_every_event_is_written_at_once() -> None:
    client = _Client()
    recorder = EventRecorder(client, "kubelet")  # type: ignore[arg-type]
    for i in range(5):
        recorder.record(_pod(f"p{i}"), NORMAL, "Started", "started")
    await recorder.flush(5)
    assert sorted(client.events.created) == [f"p{i}" for i in range(5)]
    assert client.events.most_in_flight == 5 and recorder.dropped == 0


class _Stream:
    """An event stream: creates wait until released, many at a time."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.started: list[float] = []  # the event loop's time at each create's start
        self.release = asyncio.Event()
        self.closed = False

    async def create(self, event: core_pb2.Event) -> None:
        self.started.append(asyncio.get_running_loop().time())
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await self.release.wait()
        self.in_flight -= 1
        self.created.append(event.involved_object.name)

    async def close(self) -> None:
        self.closed = True


class _Updates(_Events):
    def __init__(self) -> None:
        super().__init__()
        self.updated: list[tuple[str, int, str]] = []

    async def update(self, event: Any) -> Any:
        self.updated.append(
            (event.involved_object.name, event.count, event.metadata.resource_version)
        )
        return event


async def test_a_streamed_recorder_creates_many_at_once_and_bumps_a_repeat_after_it() -> None:
    client = _Client()
    client.events = _Updates()
    stream = _Stream()
    recorder = EventRecorder(
        client,  # type: ignore[arg-type]
        "scheduler",
        max_queued=100,
        stream=lambda _: stream,
    )
    for i in range(5):
        recorder.record(_pod(f"p{i}"), NORMAL, "Scheduled", f"assigned p{i}")
    recorder.record(_pod("p0"), NORMAL, "Scheduled", "assigned p0")  # a repeat
    # Every new event in flight at once; the repeat waits for the one it repeats.
    await until(lambda: stream.in_flight == 5, "the five new events in flight")
    assert stream.most_in_flight == 5 and client.events.updated == []
    stream.release.set()
    await recorder.flush(5)
    assert sorted(stream.created) == [f"p{i}" for i in range(5)]
    assert client.events.created == []  # none by a call of its own
    # The repeat bumps what was sent, with no resourceVersion: an unconditional update.
    assert client.events.updated == [("p0", 2, "")]
    await recorder.close()
    assert stream.closed


async def test_a_busy_streamed_recorder_starts_what_it_queued_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An event after a quiet spell starts at once; those recorded soon after it wait for the
    batch interval and then start together, so that they share a stream message. (The interval
    made long enough that a busy host's pauses between two of the starts stay well within it.)"""
    interval = 0.5
    monkeypatch.setattr(events, "STREAM_BATCH_INTERVAL", interval)
    stream = _Stream()
    recorder = EventRecorder(
        _Client(),  # type: ignore[arg-type]
        "scheduler",
        max_queued=100,
        stream=lambda _: stream,
    )
    recorded = asyncio.get_running_loop().time()
    recorder.record(_pod("first"), NORMAL, "Scheduled", "assigned first")
    await until(lambda: stream.in_flight == 1, "the first event in flight")
    for i in range(3):
        recorder.record(_pod(f"p{i}"), NORMAL, "Scheduled", f"assigned p{i}")
    await until(lambda: stream.in_flight == 4, "the three queued after it in flight")
    _, *others = stream.started
    # The others waited for the interval from the first's start (a sleep never ends early, but
    # for the clock's resolution), then started in one pass: within far less than another
    # interval. The first's start is the recorder's, at or after its record and before its
    # create runs: a busy host can put a few milliseconds between the two.
    assert min(others) - recorded >= interval - 0.001, (recorded, stream.started)
    assert max(others) - min(others) < interval / 2, stream.started
    stream.release.set()
    await recorder.flush(5)
    assert sorted(stream.created) == ["first", "p0", "p1", "p2"]
    await recorder.close()
