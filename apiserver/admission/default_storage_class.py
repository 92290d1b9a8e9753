"""DefaultStorageClass (kubernetes plugin/pkg/admission/storage/storageclass/setdefault): a claim
created without a storage class gets the cluster's default one, the class annotated
storageclass.kubernetes.io/is-default-class: "true" (of several, the newest). A claim that names
a class, even "" (no class), keeps it; with no default class the claim is left as it is."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from google.protobuf.message import Message

from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.volume import helpers

# The storage classes there are (the watch cache's copies).
StorageClasses = Callable[[], Iterable[storage_pb2.StorageClass]]


class DefaultStorageClass:
    def __init__(self, classes: StorageClasses) -> None:
        self._classes = classes

    async def admit_create(self, obj: Message) -> None:
        if not isinstance(obj, core_pb2.PersistentVolumeClaim) or helpers.claim_has_class(obj):
            return
        default = helpers.default_class(self._classes())
        if default is not None:
            obj.spec.storage_class_name = default.metadata.name

    def admit_update(self, subresource: str, new: Message, old: Message) -> None:
        pass

    def admit_delete(self, old: Message) -> None:
        pass
