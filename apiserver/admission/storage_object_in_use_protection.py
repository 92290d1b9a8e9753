"""StorageObjectInUseProtection (kubernetes plugin/pkg/admission/storage/
storageobjectinuseprotection): every claim is created with the kubernetes.io/pvc-protection
finalizer and every volume with kubernetes.io/pv-protection, so that deleting one while a pod uses
the claim, or while the volume is bound, only marks it; the protection controllers
(controller/volume/pvcprotection, pvprotection) remove the finalizer once it is unused."""

from __future__ import annotations

from google.protobuf.message import Message

from podplane.api.core.v1 import core_pb2
from podplane.volume import constants


class StorageObjectInUseProtection:
    async def admit_create(self, obj: Message) -> None:
        if isinstance(obj, core_pb2.PersistentVolumeClaim):
            finalizer = constants.PVC_PROTECTION_FINALIZER
        elif isinstance(obj, core_pb2.PersistentVolume):
            finalizer = constants.PV_PROTECTION_FINALIZER
        else:
            return
        if finalizer not in obj.metadata.finalizers:
            obj.metadata.finalizers.append(finalizer)

    def admit_update(self, subresource: str, new: Message, old: Message) -> None:
        pass

    def admit_delete(self, old: Message) -> None:
        pass
