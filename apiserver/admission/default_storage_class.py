"""DefaultStorageClass (kubernetes plugin/pkg/admission/storage/storageclass/setdefault): a claim
created without a storage class gets the cluster's default one, the class annotated
storageclass.kubernetes.io/is-default-class: "true" (of several, the newest). A claim that names
a class, even "" (no class), keeps it; with no default class the claim is left as it is."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from apiserver.admission.attributes import CREATE, Attributes
from apiserver.admission.interfaces import Handler, Scope
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.volume import helpers

# The storage classes there are (the watch cache's copies).
StorageClasses = Callable[[], Iterable[storage_pb2.StorageClass]]


class DefaultStorageClass(Handler):
    """Mutating only, of claim creates."""

    admit_scope = Scope((core_pb2.PersistentVolumeClaim,))

    def __init__(self, classes: StorageClasses) -> None:
        super().__init__(CREATE)
        self._classes = classes

    async def admit(self, attrs: Attributes) -> None:
        claim = attrs.object
        if attrs.subresource or not isinstance(claim, core_pb2.PersistentVolumeClaim):
            return
        if helpers.claim_has_class(claim):
            return
        default = helpers.default_class(self._classes())
        if default is not None:
            claim.spec.storage_class_name = default.metadata.name
