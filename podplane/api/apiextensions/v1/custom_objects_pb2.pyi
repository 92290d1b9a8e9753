from podplane.api.meta.v1 import schema_pb2 as _schema_pb2
from podplane.api.meta.v1 import meta_pb2 as _meta_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomObject(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "content")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    content: str
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., content: _Optional[str] = ...) -> None: ...

class CustomObjectList(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "items")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[CustomObject]
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[CustomObject, _Mapping]]] = ...) -> None: ...

class CustomObjectWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: CustomObject
    events: _containers.RepeatedCompositeFieldContainer[CustomObjectWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[CustomObject, _Mapping]] = ..., events: _Optional[_Iterable[_Union[CustomObjectWatchEvent, _Mapping]]] = ...) -> None: ...

class CustomObjectRequest(_message.Message):
    __slots__ = ("group", "version", "plural", "object", "dry_run", "field_validation")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PLURAL_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    FIELD_VALIDATION_FIELD_NUMBER: _ClassVar[int]
    group: str
    version: str
    plural: str
    object: CustomObject
    dry_run: bool
    field_validation: str
    def __init__(self, group: _Optional[str] = ..., version: _Optional[str] = ..., plural: _Optional[str] = ..., object: _Optional[_Union[CustomObject, _Mapping]] = ..., dry_run: bool = ..., field_validation: _Optional[str] = ...) -> None: ...

class CustomObjectGetRequest(_message.Message):
    __slots__ = ("group", "version", "plural", "namespace", "name", "resource_version")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PLURAL_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    group: str
    version: str
    plural: str
    namespace: str
    name: str
    resource_version: str
    def __init__(self, group: _Optional[str] = ..., version: _Optional[str] = ..., plural: _Optional[str] = ..., namespace: _Optional[str] = ..., name: _Optional[str] = ..., resource_version: _Optional[str] = ...) -> None: ...

class CustomObjectListRequest(_message.Message):
    __slots__ = ("group", "version", "plural", "namespace", "label_selector", "field_selector", "resource_version", "limit", "continue_token")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PLURAL_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    FIELD_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CONTINUE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    group: str
    version: str
    plural: str
    namespace: str
    label_selector: str
    field_selector: str
    resource_version: str
    limit: int
    continue_token: str
    def __init__(self, group: _Optional[str] = ..., version: _Optional[str] = ..., plural: _Optional[str] = ..., namespace: _Optional[str] = ..., label_selector: _Optional[str] = ..., field_selector: _Optional[str] = ..., resource_version: _Optional[str] = ..., limit: _Optional[int] = ..., continue_token: _Optional[str] = ...) -> None: ...

class CustomObjectWatchRequest(_message.Message):
    __slots__ = ("group", "version", "plural", "namespace", "label_selector", "field_selector", "resource_version", "allow_watch_bookmarks", "timeout_seconds", "allow_watch_batches")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PLURAL_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LABEL_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    FIELD_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    ALLOW_WATCH_BOOKMARKS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_WATCH_BATCHES_FIELD_NUMBER: _ClassVar[int]
    group: str
    version: str
    plural: str
    namespace: str
    label_selector: str
    field_selector: str
    resource_version: str
    allow_watch_bookmarks: bool
    timeout_seconds: int
    allow_watch_batches: bool
    def __init__(self, group: _Optional[str] = ..., version: _Optional[str] = ..., plural: _Optional[str] = ..., namespace: _Optional[str] = ..., label_selector: _Optional[str] = ..., field_selector: _Optional[str] = ..., resource_version: _Optional[str] = ..., allow_watch_bookmarks: bool = ..., timeout_seconds: _Optional[int] = ..., allow_watch_batches: bool = ...) -> None: ...

class CustomObjectDeleteRequest(_message.Message):
    __slots__ = ("group", "version", "plural", "namespace", "name", "grace_period_seconds", "preconditions", "propagation_policy", "dry_run")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PLURAL_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PRECONDITIONS_FIELD_NUMBER: _ClassVar[int]
    PROPAGATION_POLICY_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    group: str
    version: str
    plural: str
    namespace: str
    name: str
    grace_period_seconds: int
    preconditions: _meta_pb2.Preconditions
    propagation_policy: str
    dry_run: bool
    def __init__(self, group: _Optional[str] = ..., version: _Optional[str] = ..., plural: _Optional[str] = ..., namespace: _Optional[str] = ..., name: _Optional[str] = ..., grace_period_seconds: _Optional[int] = ..., preconditions: _Optional[_Union[_meta_pb2.Preconditions, _Mapping]] = ..., propagation_policy: _Optional[str] = ..., dry_run: bool = ...) -> None: ...
