from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor
K8S_FIELD_NUMBER: _ClassVar[int]
k8s: _descriptor.FieldDescriptor
K8S_TYPE_FIELD_NUMBER: _ClassVar[int]
k8s_type: _descriptor.FieldDescriptor

class FieldSchema(_message.Message):
    __slots__ = ("emit_empty", "required", "format", "patch_strategy", "patch_merge_key", "list_type", "list_map_keys", "map_type", "default_value")
    EMIT_EMPTY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PATCH_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    PATCH_MERGE_KEY_FIELD_NUMBER: _ClassVar[int]
    LIST_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIST_MAP_KEYS_FIELD_NUMBER: _ClassVar[int]
    MAP_TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    emit_empty: bool
    required: bool
    format: str
    patch_strategy: str
    patch_merge_key: str
    list_type: str
    list_map_keys: _containers.RepeatedScalarFieldContainer[str]
    map_type: str
    default_value: str
    def __init__(self, emit_empty: bool = ..., required: bool = ..., format: _Optional[str] = ..., patch_strategy: _Optional[str] = ..., patch_merge_key: _Optional[str] = ..., list_type: _Optional[str] = ..., list_map_keys: _Optional[_Iterable[str]] = ..., map_type: _Optional[str] = ..., default_value: _Optional[str] = ...) -> None: ...

class TypeSchema(_message.Message):
    __slots__ = ("map_type",)
    MAP_TYPE_FIELD_NUMBER: _ClassVar[int]
    map_type: str
    def __init__(self, map_type: _Optional[str] = ...) -> None: ...
