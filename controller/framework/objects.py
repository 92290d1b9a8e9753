"""What a controller reads of any API object, whatever its kind: its metadata (metav1.Object).
Every message of podplane.api with an ObjectMeta is one."""

from __future__ import annotations

from typing import Protocol

from podplane.api.meta.v1 import meta_pb2


class Object(Protocol):
    @property
    def metadata(self) -> meta_pb2.ObjectMeta: ...
