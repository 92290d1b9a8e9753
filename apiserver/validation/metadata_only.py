"""The rules every object of a kind meets whatever its fields: those of its ObjectMeta, for the
kinds whose own fields the server does not check further."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from apiserver.validation.fields import FieldError
from apiserver.validation.meta import object_meta
from podplane.api.meta.v1 import meta_pb2


class _Object(Protocol):
    @property
    def metadata(self) -> meta_pb2.ObjectMeta: ...


def metadata_rules(*, namespaced: bool) -> Callable[[_Object], list[FieldError]]:
    def validate(obj: _Object) -> list[FieldError]:
        return object_meta(obj.metadata, namespaced=namespaced)

    return validate
