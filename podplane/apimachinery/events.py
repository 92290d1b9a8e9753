"""events.k8s.io/v1 Event <-> core v1 Event, as Kubernetes' pkg/apis/events/v1/conversion.go maps
them: one stored Event (/registry/events/<namespace>/<name>, kept as the core message), served at
both versions. Every field has its place at the other version, so a round trip loses nothing:

    events.k8s.io/v1           core v1
    regarding                  involvedObject
    note                       message
    reportingController        reportingComponent
    deprecatedSource           source
    deprecatedFirstTimestamp   firstTimestamp
    deprecatedLastTimestamp    lastTimestamp
    deprecatedCount            count

and reportingInstance, related, type, reason, action, eventTime and series by the same name."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from podplane.api.events.v1 import events_pb2

CORE_VERSION = "v1"
EVENTS_VERSION = "events.k8s.io/v1"
KIND = "Event"


def to_core(obj: events_pb2.Event) -> core_pb2.Event:
    """An events.k8s.io/v1 Event as the core v1 Event that is stored."""
    out = core_pb2.Event(
        api_version=CORE_VERSION,
        kind=KIND,
        reason=obj.reason,
        message=obj.note,
        first_timestamp=obj.deprecated_first_timestamp,
        last_timestamp=obj.deprecated_last_timestamp,
        count=obj.deprecated_count,
        type=obj.type,
        reporting_component=obj.reporting_controller,
        reporting_instance=obj.reporting_instance,
        action=obj.action,
        event_time=obj.event_time,
    )
    out.metadata.CopyFrom(obj.metadata)
    out.involved_object.CopyFrom(obj.regarding)
    out.source.CopyFrom(obj.deprecated_source)
    if obj.HasField("series"):
        out.series.count = obj.series.count
        out.series.last_observed_time = obj.series.last_observed_time
    if obj.HasField("related"):
        out.related.CopyFrom(obj.related)
    return out


def to_events(obj: core_pb2.Event) -> events_pb2.Event:
    """A stored core v1 Event as events.k8s.io/v1 serves it."""
    out = events_pb2.Event(
        api_version=EVENTS_VERSION,
        kind=KIND,
        event_time=obj.event_time,
        reporting_controller=obj.reporting_component,
        reporting_instance=obj.reporting_instance,
        action=obj.action,
        reason=obj.reason,
        note=obj.message,
        type=obj.type,
        deprecated_first_timestamp=obj.first_timestamp,
        deprecated_last_timestamp=obj.last_timestamp,
        deprecated_count=obj.count,
    )
    out.metadata.CopyFrom(obj.metadata)
    out.regarding.CopyFrom(obj.involved_object)
    out.deprecated_source.CopyFrom(obj.source)
    if obj.HasField("series"):
        out.series.count = obj.series.count
        out.series.last_observed_time = obj.series.last_observed_time
    if obj.HasField("related"):
        out.related.CopyFrom(obj.related)
    return out
