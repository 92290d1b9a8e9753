"""Scheduled events over an event stream (Events/CreateStream), as the scheduler's recorder sends
them, against the real apiserver and etcd: each is created as its Create call would create it, a
refused one (an invalid event) is refused alone, and a repeat bumps the event's count."""

from __future__ import annotations

import grpc
import pytest

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client
from podplane.client.events import NORMAL, EventRecorder
from podplane.client.streams import EventStream
from tests.integration.api_objects import pod
from tests.support import new_namespace


async def test_scheduled_events_over_a_stream_are_each_created_and_a_repeat_is_counted(
    client: Client,
) -> None:
    ns = await new_namespace(client)
    pods = [await client.pods.create(pod(f"p{i}", ns)) for i in range(40)]
    recorder = EventRecorder(client, "default-scheduler", max_queued=100, stream=EventStream)
    try:
        for p in pods:
            recorder.record(p, NORMAL, "Scheduled", f"assigned {p.metadata.name}", action="Binding")
        await recorder.flush(10)
        recorder.record(pods[0], NORMAL, "Scheduled", "assigned p0", action="Binding")
        await recorder.flush(10)
    finally:
        await recorder.close()
    events, _ = await client.events.list_all(ns)
    by_pod = {e.involved_object.name: e for e in events}
    assert len(events) == 40 and set(by_pod) == {f"p{i}" for i in range(40)}
    assert {(e.reason, e.source.component, e.action) for e in events} == {
        ("Scheduled", "default-scheduler", "Binding")
    }
    assert all(
        e.involved_object.uid == p.metadata.uid for p in pods for e in [by_pod[p.metadata.name]]
    )
    assert by_pod["p0"].count == 2 and by_pod["p1"].count == 1


async def test_each_event_of_a_stream_is_answered_alone(client: Client) -> None:
    ns = await new_namespace(client)
    stream = EventStream(client)

    def event(name: str, reason: str) -> core_pb2.Event:
        return core_pb2.Event(
            metadata=meta_pb2.ObjectMeta(name=name, namespace=ns),
            involved_object=core_pb2.ObjectReference(kind="Pod", namespace=ns, name="p"),
            reason=reason,
            type=NORMAL,
            count=1,
        )

    try:
        await stream.create(event("fine", "Scheduled"))
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stream.create(event("fine", "Scheduled"))  # the same name again
        assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
        await stream.create(event("also-fine", "Pulled"))
    finally:
        await stream.close()
    # Events are read from etcd (not cached): what was acknowledged is there.
    events, _ = await client.events.list_all(ns)
    assert sorted(e.metadata.name for e in events) == ["also-fine", "fine"]
