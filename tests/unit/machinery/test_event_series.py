"""A recorder with `series=True` counts repeats as client-go's events.k8s.io recorder does
(tools/events, event_broadcaster.go): the first occurrence is created, the second writes
series.count 2, later ones count in memory until the refresh writes them, and a series unobserved
for six minutes is written a last time and forgotten. Without it, every repeat is an update."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.event_series import FINISH_TIME, REFRESH_INTERVAL
from podplane.client.events import WARNING, EventRecorder
from tests.unit.waiting import until

T0 = 1_800_000_000.0


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class _Events:
    """The apiserver's events: what was written, in order, as (verb, name, series count)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, int]] = []
        self.stored: dict[str, core_pb2.Event] = {}

    async def create(self, event: core_pb2.Event) -> core_pb2.Event:
        self.writes.append(("create", event.metadata.name, event.series.count))
        self.stored[event.metadata.name] = event
        return event

    async def update(self, event: core_pb2.Event) -> core_pb2.Event:
        if event.metadata.name not in self.stored:
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(), grpc.aio.Metadata(), "not found"
            )
        self.writes.append(("update", event.metadata.name, event.series.count))
        self.stored[event.metadata.name] = event
        return event


class _Client:
    def __init__(self) -> None:
        self.events = _Events()


def _pod(name: str = "web", resource_version: str = "7") -> core_pb2.Pod:
    return core_pb2.Pod(
        metadata=meta_pb2.ObjectMeta(
            name=name, namespace="ns", uid=f"uid-{name}", resource_version=resource_version
        )
    )


def _recorder(client: _Client, clock: _Clock, **options: object) -> EventRecorder:
    return EventRecorder(
        client,  # type: ignore[arg-type]
        "default-scheduler",
        instance="default-scheduler-host",
        series=True,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


async def _fail(recorder: EventRecorder, pod: core_pb2.Pod, message: str = "0/3 nodes") -> None:
    recorder.record(pod, WARNING, "FailedScheduling", message, action="Scheduling")
    await recorder.flush(5)


async def test_the_first_is_created_the_second_counted_and_later_ones_wait_for_the_refresh() -> (
    None
):
    client, clock = _Client(), _Clock()
    recorder = _recorder(client, clock)
    await _fail(recorder, _pod())
    [(verb, name, count)] = client.events.writes
    assert (verb, count) == ("create", 0)
    created = client.events.stored[name]
    assert not created.HasField("series")

    clock.now += 10
    await _fail(recorder, _pod())
    assert client.events.writes[1] == ("update", name, 2)
    series = client.events.stored[name].series
    assert series.last_observed_time == "2027-01-15T08:00:10.000000Z"

    for _ in range(3, 8):  # the third to the seventh: counted, not written
        clock.now += 10
        await _fail(recorder, _pod())
    assert len(client.events.writes) == 2

    await recorder.refresh_series()
    assert client.events.writes[2:] == [("update", name, 7)]
    assert client.events.stored[name].series.last_observed_time == "2027-01-15T08:01:00.000000Z"
    await recorder.refresh_series()  # nothing observed since: nothing written
    assert len(client.events.writes) == 3
    await recorder.close()


async def test_events_are_made_as_the_events_k8s_io_recorder_makes_them() -> None:
    client, clock = _Client(), _Clock()
    recorder = _recorder(client, clock)
    await _fail(recorder, _pod())
    [event] = client.events.stored.values()
    assert event.metadata.namespace == "ns" and event.metadata.name.startswith("web.")
    assert (event.type, event.reason, event.action, event.message) == (
        WARNING,
        "FailedScheduling",
        "Scheduling",
        "0/3 nodes",
    )
    assert (event.reporting_component, event.reporting_instance) == (
        "default-scheduler",
        "default-scheduler-host",
    )
    assert event.event_time == "2027-01-15T08:00:00.000000Z"
    ref = event.involved_object
    assert (ref.kind, ref.api_version, ref.name, ref.uid, ref.resource_version) == (
        "Pod",
        "v1",
        "web",
        "uid-web",
        "7",
    )
    # The deprecated core fields stay unset, as events.k8s.io/v1 requires of a create.
    assert not (event.count or event.first_timestamp or event.last_timestamp)
    assert not (event.source.component or event.source.host)
    await recorder.close()


@pytest.mark.parametrize(
    ("second", "same_series"),
    [
        (_pod(), True),
        (_pod(resource_version="8"), False),  # the regarding reference differs
        (_pod("other"), False),
    ],
)
async def test_isomorphic_events_share_a_series_whatever_their_note(
    second: core_pb2.Pod, same_series: bool
) -> None:
    client, clock = _Client(), _Clock()
    recorder = _recorder(client, clock)
    await _fail(recorder, _pod(), "0/3 nodes are available")
    await _fail(recorder, second, "0/4 nodes are available")
    verbs = [verb for verb, _, _ in client.events.writes]
    assert verbs == (["create", "update"] if same_series else ["create", "create"])
    if same_series:  # a series keeps its first note
        [event] = client.events.stored.values()
        assert event.message == "0/3 nodes are available"
    await recorder.close()


async def test_a_series_unobserved_for_six_minutes_is_written_once_more_and_forgotten() -> None:
    client, clock = _Client(), _Clock()
    recorder = _recorder(client, clock)
    for _ in range(4):
        await _fail(recorder, _pod())
    first = client.events.writes[0][1]
    await _fail(recorder, _pod("single"))
    assert len(client.events.writes) == 3  # web: create, count 2; single: create

    clock.now += FINISH_TIME - 1
    await recorder.finish_series()  # not yet
    assert len(client.events.writes) == 3
    clock.now += 2
    await recorder.finish_series()
    assert client.events.writes[3:] == [("update", first, 4)]  # the last count, once

    await recorder.refresh_series()  # forgotten: nothing left to refresh
    assert len(client.events.writes) == 4
    await _fail(recorder, _pod())  # a new occurrence starts a new event
    verb, name, count = client.events.writes[4]
    assert (verb, count) == ("create", 0) and name != first
    await recorder.close()


async def test_a_series_whose_event_is_gone_creates_it_again() -> None:
    client, clock = _Client(), _Clock()
    recorder = _recorder(client, clock)
    await _fail(recorder, _pod())
    client.events.stored.clear()  # deleted meanwhile
    await _fail(recorder, _pod())
    [_, (verb, name, count)] = client.events.writes
    assert (verb, count) == ("create", 2) and name in client.events.stored
    await recorder.close()


async def test_the_recorder_refreshes_its_series_in_a_task_close_cancels() -> None:
    client, clock = _Client(), _Clock()
    recorder = _recorder(client, clock, refresh_interval=0.05, max_queued=10)
    assert (REFRESH_INTERVAL, FINISH_TIME) == (30 * 60, 6 * 60)  # client-go's timings
    for _ in range(5):
        recorder.record(_pod(), WARNING, "FailedScheduling", "0/3 nodes", action="Scheduling")
    await until(
        lambda: [c for _, _, c in client.events.writes] == [0, 2, 5], "the refresh to count 5"
    )
    keeper = recorder._series_keeper
    assert keeper is not None and not keeper.done()
    await recorder.close()
    assert keeper.cancelled()


async def test_a_streamed_series_recorder_creates_over_the_stream_and_counts_by_update() -> None:
    client, clock = _Client(), _Clock()
    streamed: list[str] = []

    class _Stream:
        async def create(self, event: core_pb2.Event) -> None:
            await asyncio.sleep(0.01)
            streamed.append(event.metadata.name)
            client.events.stored[event.metadata.name] = event

        async def close(self) -> None:
            pass

    recorder = _recorder(client, clock, max_queued=10, stream=lambda _: _Stream())
    for _ in range(3):
        recorder.record(_pod(), WARNING, "FailedScheduling", "0/3 nodes", action="Scheduling")
    await until(lambda: len(client.events.writes) == 1, "the second occurrence written")
    await recorder.flush(5)
    [name] = streamed
    # The second waited for the create still in flight; the third only counted.
    assert client.events.writes == [("update", name, 2)]
    await recorder.refresh_series()
    assert client.events.writes[-1] == ("update", name, 3)
    await recorder.close()


async def test_without_series_every_repeat_is_an_update_of_the_count() -> None:
    client = _Client()
    recorder = EventRecorder(client, "kubelet")  # type: ignore[arg-type]
    for _ in range(3):
        recorder.record(_pod(), WARNING, "BackOff", "Back-off restarting failed container")
        await recorder.flush(5)
    assert [(verb, count) for verb, _, count in client.events.writes] == [
        ("create", 0),
        ("update", 0),
        ("update", 0),
    ]
    [event] = client.events.stored.values()
    assert (event.count, event.event_time, event.HasField("series")) == (3, "", False)
    assert event.source.component == "kubelet" and event.first_timestamp
    assert recorder._series_keeper is None
