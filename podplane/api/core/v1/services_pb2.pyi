from podplane.api.meta.v1 import meta_pb2 as _meta_pb2
from podplane.api.core.v1 import core_pb2 as _core_pb2
from podplane.api.core.v1 import service_pb2 as _service_pb2
from podplane.api.core.v1 import quota_pb2 as _quota_pb2
from podplane.api.authentication.v1 import token_request_pb2 as _token_request_pb2
from podplane.api.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor
