"""events.k8s.io/v1 <-> core v1 Event, field by field, as pkg/apis/events/v1/conversion.go maps
them: what one version writes the other reads in its own field, and a round trip loses
nothing."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from podplane.api.events.v1 import events_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.events import to_core, to_events

POD = core_pb2.ObjectReference(kind="Pod", namespace="ns", name="web", uid="u1", api_version="v1")
NODE = core_pb2.ObjectReference(kind="Node", name="node-1", api_version="v1")
META = meta_pb2.ObjectMeta(name="web.1", namespace="ns", uid="e1", labels={"a": "b"})


def full_core() -> core_pb2.Event:
    return core_pb2.Event(
        api_version="v1",
        kind="Event",
        metadata=META,
        involved_object=POD,
        reason="Started",
        message="Started container main",
        source=core_pb2.EventSource(component="kubelet", host="node-1"),
        first_timestamp="2026-01-02T03:04:05Z",
        last_timestamp="2026-01-02T03:05:05Z",
        count=3,
        type="Normal",
        reporting_component="kubernetes.io/kubelet",
        reporting_instance="node-1",
        action="Starting",
        event_time="2026-01-02T03:04:05.123456Z",
        series=core_pb2.EventSeries(count=2, last_observed_time="2026-01-02T03:05:05.000001Z"),
        related=NODE,
    )


def test_each_core_field_is_read_at_its_events_k8s_io_name() -> None:
    got = to_events(full_core())
    assert (got.api_version, got.kind) == ("events.k8s.io/v1", "Event")
    assert got.metadata == META
    assert got.regarding == POD
    assert got.related == NODE
    assert got.note == "Started container main"
    assert got.reporting_controller == "kubernetes.io/kubelet"
    assert got.reporting_instance == "node-1"
    assert (got.type, got.reason, got.action) == ("Normal", "Started", "Starting")
    assert got.event_time == "2026-01-02T03:04:05.123456Z"
    assert got.series == events_pb2.EventSeries(
        count=2, last_observed_time="2026-01-02T03:05:05.000001Z"
    )
    assert got.deprecated_source == core_pb2.EventSource(component="kubelet", host="node-1")
    assert got.deprecated_first_timestamp == "2026-01-02T03:04:05Z"
    assert got.deprecated_last_timestamp == "2026-01-02T03:05:05Z"
    assert got.deprecated_count == 3


def test_each_events_k8s_io_field_is_stored_at_its_core_name() -> None:
    got = to_core(
        events_pb2.Event(
            metadata=META,
            event_time="2026-01-02T03:04:05.000000Z",
            series=events_pb2.EventSeries(count=4, last_observed_time="2026-01-02T03:06:00.0Z"),
            reporting_controller="example.com/ctl",
            reporting_instance="ctl-0",
            action="Reconcile",
            reason="Synced",
            regarding=POD,
            related=NODE,
            note="synced",
            type="Warning",
            deprecated_source=core_pb2.EventSource(component="ctl"),
            deprecated_first_timestamp="2026-01-02T03:04:05Z",
            deprecated_last_timestamp="2026-01-02T03:04:06Z",
            deprecated_count=7,
        )
    )
    assert (got.api_version, got.kind) == ("v1", "Event")
    assert got.involved_object == POD and got.related == NODE
    assert got.message == "synced"
    assert got.reporting_component == "example.com/ctl"
    assert got.reporting_instance == "ctl-0"
    assert (got.action, got.reason, got.type) == ("Reconcile", "Synced", "Warning")
    assert got.event_time == "2026-01-02T03:04:05.000000Z"
    assert got.series == core_pb2.EventSeries(count=4, last_observed_time="2026-01-02T03:06:00.0Z")
    assert got.source == core_pb2.EventSource(component="ctl")
    assert (got.first_timestamp, got.last_timestamp, got.count) == (
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:06Z",
        7,
    )


def test_a_round_trip_loses_nothing() -> None:
    core = full_core()
    assert to_core(to_events(core)) == core
    events = to_events(core)
    assert to_events(to_core(events)) == events


def test_a_singleton_has_no_series_and_no_related_at_either_version() -> None:
    core = core_pb2.Event(metadata=META, involved_object=POD, reason="Pulled")
    got = to_events(core)
    assert not got.HasField("series") and not got.HasField("related")
    back = to_core(got)
    assert not back.HasField("series") and not back.HasField("related")
