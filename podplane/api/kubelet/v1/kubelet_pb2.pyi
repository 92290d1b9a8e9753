from podplane.api.core.v1 import core_pb2 as _core_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ContainerLogsRequest(_message.Message):
    __slots__ = ("namespace", "pod_name", "pod_uid", "container", "follow", "previous", "tail_lines", "timestamps", "since_seconds")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    POD_NAME_FIELD_NUMBER: _ClassVar[int]
    POD_UID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    TAIL_LINES_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    SINCE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    pod_name: str
    pod_uid: str
    container: str
    follow: bool
    previous: bool
    tail_lines: int
    timestamps: bool
    since_seconds: int
    def __init__(self, namespace: _Optional[str] = ..., pod_name: _Optional[str] = ..., pod_uid: _Optional[str] = ..., container: _Optional[str] = ..., follow: bool = ..., previous: bool = ..., tail_lines: _Optional[int] = ..., timestamps: bool = ..., since_seconds: _Optional[int] = ...) -> None: ...

class ContainerExecRequest(_message.Message):
    __slots__ = ("namespace", "pod_name", "pod_uid", "container", "command", "stdin")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    POD_NAME_FIELD_NUMBER: _ClassVar[int]
    POD_UID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    pod_name: str
    pod_uid: str
    container: str
    command: _containers.RepeatedScalarFieldContainer[str]
    stdin: bytes
    def __init__(self, namespace: _Optional[str] = ..., pod_name: _Optional[str] = ..., pod_uid: _Optional[str] = ..., container: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., stdin: _Optional[bytes] = ...) -> None: ...

class ContainerAttachRequest(_message.Message):
    __slots__ = ("namespace", "pod_name", "pod_uid", "container", "stdin")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    POD_NAME_FIELD_NUMBER: _ClassVar[int]
    POD_UID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    pod_name: str
    pod_uid: str
    container: str
    stdin: bytes
    def __init__(self, namespace: _Optional[str] = ..., pod_name: _Optional[str] = ..., pod_uid: _Optional[str] = ..., container: _Optional[str] = ..., stdin: _Optional[bytes] = ...) -> None: ...
