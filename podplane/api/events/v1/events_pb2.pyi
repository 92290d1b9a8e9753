from podplane.api.meta.v1 import schema_pb2 as _schema_pb2
from podplane.api.meta.v1 import meta_pb2 as _meta_pb2
from podplane.api.core.v1 import core_pb2 as _core_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Event(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "event_time", "series", "reporting_controller", "reporting_instance", "action", "reason", "regarding", "related", "note", "type", "deprecated_source", "deprecated_first_timestamp", "deprecated_last_timestamp", "deprecated_count")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    REPORTING_CONTROLLER_FIELD_NUMBER: _ClassVar[int]
    REPORTING_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REGARDING_FIELD_NUMBER: _ClassVar[int]
    RELATED_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DEPRECATED_SOURCE_FIELD_NUMBER: _ClassVar[int]
    DEPRECATED_FIRST_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DEPRECATED_LAST_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DEPRECATED_COUNT_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    event_time: str
    series: EventSeries
    reporting_controller: str
    reporting_instance: str
    action: str
    reason: str
    regarding: _core_pb2.ObjectReference
    related: _core_pb2.ObjectReference
    note: str
    type: str
    deprecated_source: _core_pb2.EventSource
    deprecated_first_timestamp: str
    deprecated_last_timestamp: str
    deprecated_count: int
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., event_time: _Optional[str] = ..., series: _Optional[_Union[EventSeries, _Mapping]] = ..., reporting_controller: _Optional[str] = ..., reporting_instance: _Optional[str] = ..., action: _Optional[str] = ..., reason: _Optional[str] = ..., regarding: _Optional[_Union[_core_pb2.ObjectReference, _Mapping]] = ..., related: _Optional[_Union[_core_pb2.ObjectReference, _Mapping]] = ..., note: _Optional[str] = ..., type: _Optional[str] = ..., deprecated_source: _Optional[_Union[_core_pb2.EventSource, _Mapping]] = ..., deprecated_first_timestamp: _Optional[str] = ..., deprecated_last_timestamp: _Optional[str] = ..., deprecated_count: _Optional[int] = ...) -> None: ...

class EventSeries(_message.Message):
    __slots__ = ("count", "last_observed_time")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_OBSERVED_TIME_FIELD_NUMBER: _ClassVar[int]
    count: int
    last_observed_time: str
    def __init__(self, count: _Optional[int] = ..., last_observed_time: _Optional[str] = ...) -> None: ...

class EventList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class EventWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: Event
    events: _containers.RepeatedCompositeFieldContainer[EventWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[Event, _Mapping]] = ..., events: _Optional[_Iterable[_Union[EventWatchEvent, _Mapping]]] = ...) -> None: ...
