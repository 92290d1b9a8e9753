from podplane.api.meta.v1 import schema_pb2 as _schema_pb2
from podplane.api.meta.v1 import meta_pb2 as _meta_pb2
from podplane.api.core.v1 import core_pb2 as _core_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CSIDriver(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: CSIDriverSpec
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[CSIDriverSpec, _Mapping]] = ...) -> None: ...

class CSIDriverSpec(_message.Message):
    __slots__ = ("attach_required", "pod_info_on_mount", "volume_lifecycle_modes", "storage_capacity", "fs_group_policy", "token_requests", "requires_republish", "se_linux_mount")
    ATTACH_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    POD_INFO_ON_MOUNT_FIELD_NUMBER: _ClassVar[int]
    VOLUME_LIFECYCLE_MODES_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    FS_GROUP_POLICY_FIELD_NUMBER: _ClassVar[int]
    TOKEN_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_REPUBLISH_FIELD_NUMBER: _ClassVar[int]
    SE_LINUX_MOUNT_FIELD_NUMBER: _ClassVar[int]
    attach_required: bool
    pod_info_on_mount: bool
    volume_lifecycle_modes: _containers.RepeatedScalarFieldContainer[str]
    storage_capacity: bool
    fs_group_policy: str
    token_requests: _containers.RepeatedCompositeFieldContainer[TokenRequest]
    requires_republish: bool
    se_linux_mount: bool
    def __init__(self, attach_required: bool = ..., pod_info_on_mount: bool = ..., volume_lifecycle_modes: _Optional[_Iterable[str]] = ..., storage_capacity: bool = ..., fs_group_policy: _Optional[str] = ..., token_requests: _Optional[_Iterable[_Union[TokenRequest, _Mapping]]] = ..., requires_republish: bool = ..., se_linux_mount: bool = ...) -> None: ...

class TokenRequest(_message.Message):
    __slots__ = ("audience", "expiration_seconds")
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    audience: str
    expiration_seconds: int
    def __init__(self, audience: _Optional[str] = ..., expiration_seconds: _Optional[int] = ...) -> None: ...

class CSIDriverList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[CSIDriver]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[CSIDriver, _Mapping]]] = ...) -> None: ...

class CSINode(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: CSINodeSpec
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[CSINodeSpec, _Mapping]] = ...) -> None: ...

class CSINodeSpec(_message.Message):
    __slots__ = ("drivers",)
    DRIVERS_FIELD_NUMBER: _ClassVar[int]
    drivers: _containers.RepeatedCompositeFieldContainer[CSINodeDriver]
    def __init__(self, drivers: _Optional[_Iterable[_Union[CSINodeDriver, _Mapping]]] = ...) -> None: ...

class CSINodeDriver(_message.Message):
    __slots__ = ("name", "node_id", "topology_keys", "allocatable")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    TOPOLOGY_KEYS_FIELD_NUMBER: _ClassVar[int]
    ALLOCATABLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    node_id: str
    topology_keys: _containers.RepeatedScalarFieldContainer[str]
    allocatable: VolumeNodeResources
    def __init__(self, name: _Optional[str] = ..., node_id: _Optional[str] = ..., topology_keys: _Optional[_Iterable[str]] = ..., allocatable: _Optional[_Union[VolumeNodeResources, _Mapping]] = ...) -> None: ...

class VolumeNodeResources(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class CSINodeList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[CSINode]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[CSINode, _Mapping]]] = ...) -> None: ...

class CSIStorageCapacity(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "node_topology", "storage_class_name", "capacity", "maximum_volume_size")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    NODE_TOPOLOGY_FIELD_NUMBER: _ClassVar[int]
    STORAGE_CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_VOLUME_SIZE_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    node_topology: _meta_pb2.LabelSelector
    storage_class_name: str
    capacity: str
    maximum_volume_size: str
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., node_topology: _Optional[_Union[_meta_pb2.LabelSelector, _Mapping]] = ..., storage_class_name: _Optional[str] = ..., capacity: _Optional[str] = ..., maximum_volume_size: _Optional[str] = ...) -> None: ...

class CSIStorageCapacityList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[CSIStorageCapacity]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[CSIStorageCapacity, _Mapping]]] = ...) -> None: ...

class VolumeAttachment(_message.Message):
    __slots__ = ("api_version", "kind", "metadata", "spec", "status")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    metadata: _meta_pb2.ObjectMeta
    spec: VolumeAttachmentSpec
    status: VolumeAttachmentStatus
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[_meta_pb2.ObjectMeta, _Mapping]] = ..., spec: _Optional[_Union[VolumeAttachmentSpec, _Mapping]] = ..., status: _Optional[_Union[VolumeAttachmentStatus, _Mapping]] = ...) -> None: ...

class VolumeAttachmentSpec(_message.Message):
    __slots__ = ("attacher", "source", "node_name")
    ATTACHER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    attacher: str
    source: VolumeAttachmentSource
    node_name: str
    def __init__(self, attacher: _Optional[str] = ..., source: _Optional[_Union[VolumeAttachmentSource, _Mapping]] = ..., node_name: _Optional[str] = ...) -> None: ...

class VolumeAttachmentSource(_message.Message):
    __slots__ = ("persistent_volume_name", "inline_volume_spec")
    PERSISTENT_VOLUME_NAME_FIELD_NUMBER: _ClassVar[int]
    INLINE_VOLUME_SPEC_FIELD_NUMBER: _ClassVar[int]
    persistent_volume_name: str
    inline_volume_spec: _core_pb2.PersistentVolumeSpec
    def __init__(self, persistent_volume_name: _Optional[str] = ..., inline_volume_spec: _Optional[_Union[_core_pb2.PersistentVolumeSpec, _Mapping]] = ...) -> None: ...

class VolumeAttachmentStatus(_message.Message):
    __slots__ = ("attached", "attachment_metadata", "attach_error", "detach_error")
    class AttachmentMetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTACHED_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENT_METADATA_FIELD_NUMBER: _ClassVar[int]
    ATTACH_ERROR_FIELD_NUMBER: _ClassVar[int]
    DETACH_ERROR_FIELD_NUMBER: _ClassVar[int]
    attached: bool
    attachment_metadata: _containers.ScalarMap[str, str]
    attach_error: VolumeError
    detach_error: VolumeError
    def __init__(self, attached: bool = ..., attachment_metadata: _Optional[_Mapping[str, str]] = ..., attach_error: _Optional[_Union[VolumeError, _Mapping]] = ..., detach_error: _Optional[_Union[VolumeError, _Mapping]] = ...) -> None: ...

class VolumeError(_message.Message):
    __slots__ = ("time", "message")
    TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    time: str
    message: str
    def __init__(self, time: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class VolumeAttachmentList(_message.Message):
    __slots__ = ("metadata", "items")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _meta_pb2.ListMeta
    items: _containers.RepeatedCompositeFieldContainer[VolumeAttachment]
    def __init__(self, metadata: _Optional[_Union[_meta_pb2.ListMeta, _Mapping]] = ..., items: _Optional[_Iterable[_Union[VolumeAttachment, _Mapping]]] = ...) -> None: ...

class CSIDriverWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: CSIDriver
    events: _containers.RepeatedCompositeFieldContainer[CSIDriverWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[CSIDriver, _Mapping]] = ..., events: _Optional[_Iterable[_Union[CSIDriverWatchEvent, _Mapping]]] = ...) -> None: ...

class CSINodeWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: CSINode
    events: _containers.RepeatedCompositeFieldContainer[CSINodeWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[CSINode, _Mapping]] = ..., events: _Optional[_Iterable[_Union[CSINodeWatchEvent, _Mapping]]] = ...) -> None: ...

class CSIStorageCapacityWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: CSIStorageCapacity
    events: _containers.RepeatedCompositeFieldContainer[CSIStorageCapacityWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[CSIStorageCapacity, _Mapping]] = ..., events: _Optional[_Iterable[_Union[CSIStorageCapacityWatchEvent, _Mapping]]] = ...) -> None: ...

class VolumeAttachmentWatchEvent(_message.Message):
    __slots__ = ("type", "object", "events")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    type: str
    object: VolumeAttachment
    events: _containers.RepeatedCompositeFieldContainer[VolumeAttachmentWatchEvent]
    def __init__(self, type: _Optional[str] = ..., object: _Optional[_Union[VolumeAttachment, _Mapping]] = ..., events: _Optional[_Iterable[_Union[VolumeAttachmentWatchEvent, _Mapping]]] = ...) -> None: ...
