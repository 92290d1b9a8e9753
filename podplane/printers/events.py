"""The events table, as printEvent: the times of an events.k8s.io event (eventTime, series) stand
in for the core ones it leaves unset. An events.k8s.io/v1 Event is shown as its core v1 self,
as Kubernetes prints its internal Event at either version."""

from __future__ import annotations

from datetime import datetime

from podplane.api.core.v1 import core_pb2
from podplane.api.events.v1 import events_pb2
from podplane.apimachinery import events as conversion
from podplane.apimachinery.timeutil import human_age, parse
from podplane.printers.spec import OBJECT_NAME_DOC, Cell, Column, TableSpec


def event_first_seen(event: core_pb2.Event, now: datetime) -> str:
    return human_age(event.first_timestamp or event.event_time, now)


def event_last_seen(event: core_pb2.Event, now: datetime) -> str:
    if event.HasField("series"):
        return human_age(event.series.last_observed_time, now)
    if event.last_timestamp:
        return human_age(event.last_timestamp, now)
    return event_first_seen(event, now)


def event_count(event: core_pb2.Event) -> int:
    """The series' count, else the count; a singleton events.k8s.io event has none: 1."""
    if event.HasField("series"):
        return event.series.count
    return event.count or 1


def event_object(event: core_pb2.Event) -> str:
    kind = event.involved_object.kind.lower()
    return f"{kind}/{event.involved_object.name}" if event.involved_object.name else kind


def event_source(event: core_pb2.Event) -> str:
    """`component, host`, or the component alone; the reporting controller and instance stand in
    for an empty component or host (formatEventSource)."""
    component = event.source.component or event.reporting_component
    instance = event.source.host or event.reporting_instance
    return f"{component}, {instance}" if instance else component


def event_sort_key(event: core_pb2.Event) -> float:
    """Oldest first, by when last seen (kubectl's SortableEvents, eventTime()): a series' last
    observation, else lastTimestamp, else eventTime (an events.k8s.io event without a series,
    which sets no lastTimestamp); parsed, as the two are formatted to different precisions."""
    when = (
        event.series.last_observed_time
        if event.HasField("series")
        else event.last_timestamp or event.event_time
    )
    parsed = parse(when)
    return parsed.timestamp() if parsed is not None else 0.0


def event_row(event: core_pb2.Event, now: datetime) -> list[Cell]:
    return [
        event_last_seen(event, now),
        event.type,
        event.reason,
        event_object(event),
        event.involved_object.field_path,
        event_source(event),
        event.message.strip(),
        event_first_seen(event, now),
        event_count(event),
        event.metadata.name,
    ]


def events_v1_row(event: events_pb2.Event, now: datetime) -> list[Cell]:
    return event_row(conversion.to_core(event), now)


# COUNT is typed "string" but its cells are integers, as Kubernetes declares and fills them.
EVENT_COLUMNS = (
    Column(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    Column(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    Column(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for "
        "the transition into the object's current status.",
    ),
    Column("Object", "string", "The object that this event is about."),
    Column(
        "Subobject",
        "string",
        "If referring to a piece of an object instead of an entire object, this string "
        "should contain a valid JSON/Go field access statement, such as "
        "desiredState.manifest.containers[2]. For example, if the object reference is to a "
        "container within a pod, this would take on a value like: "
        '"spec.containers{name}" (where "name" refers to the name of the container '
        "that triggered the event) or if no container name is specified "
        '"spec.containers[2]" (container with index 2 in this pod). This syntax is '
        "chosen only to have some well-defined way of referencing a part of an object.",
        priority=1,
    ),
    Column(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
        priority=1,
    ),
    Column("Message", "string", "A human-readable description of the status of this operation."),
    Column(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
        priority=1,
    ),
    Column("Count", "string", "The number of times this event has occurred.", priority=1),
    Column("Name", "string", OBJECT_NAME_DOC, format="name", priority=1),
)
EVENT_TABLE = TableSpec(columns=EVENT_COLUMNS, row=event_row)
EVENTS_V1_TABLE = TableSpec(columns=EVENT_COLUMNS, row=events_v1_row)
