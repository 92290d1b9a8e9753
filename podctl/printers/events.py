"""The events table, as kubectl's printEvent."""

from __future__ import annotations

from datetime import datetime

from podctl.printers.table import Column, TableSpec
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age


def event_first_seen(event: core_pb2.Event, now: datetime) -> str:
    return human_age(event.first_timestamp, now)


def event_last_seen(event: core_pb2.Event, now: datetime) -> str:
    if event.last_timestamp:
        return human_age(event.last_timestamp, now)
    return event_first_seen(event, now)


def event_object(event: core_pb2.Event) -> str:
    kind = event.involved_object.kind.lower()
    return f"{kind}/{event.involved_object.name}" if event.involved_object.name else kind


def event_source(event: core_pb2.Event) -> str:
    component = event.source.component or event.reporting_component
    instance = event.source.host or event.reporting_instance
    if not component:
        return ""
    return f"{component}, {instance}" if instance else component


def event_sort_key(event: core_pb2.Event) -> str:
    """Oldest first, by when last seen (kubectl's SortableEvents)."""
    return str(event.last_timestamp or event.first_timestamp)


def event_row(event: core_pb2.Event, now: datetime) -> list[str]:
    return [
        event_last_seen(event, now),
        event.type,
        event.reason,
        event_object(event),
        event.involved_object.field_path,
        event_source(event),
        event.message.strip(),
        event_first_seen(event, now),
        str(event.count or 1),
        event.metadata.name,
    ]


EVENT_TABLE = TableSpec(
    columns=(
        Column("Last Seen"),
        Column("Type"),
        Column("Reason"),
        Column("Object"),
        Column("Subobject", wide=True),
        Column("Source", wide=True),
        Column("Message"),
        Column("First Seen", wide=True),
        Column("Count", wide=True),
        Column("Name", wide=True),
    ),
    row=event_row,
)
