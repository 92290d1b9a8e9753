"""StorageObjectInUseProtection (kubernetes plugin/pkg/admission/storage/
storageobjectinuseprotection): every claim is created with the kubernetes.io/pvc-protection
finalizer and every volume with kubernetes.io/pv-protection, so that deleting one while a pod uses
the claim, or while the volume is bound, only marks it; the protection controllers
(controller/volume/pvcprotection, pvprotection) remove the finalizer once it is unused."""

from __future__ import annotations

from apiserver.admission.attributes import CREATE, Attributes
from apiserver.admission.interfaces import Handler, Scope
from podplane.api.core.v1 import core_pb2
from podplane.volume import constants


class StorageObjectInUseProtection(Handler):
    """Mutating only, of claim and volume creates."""

    admit_scope = Scope((core_pb2.PersistentVolumeClaim, core_pb2.PersistentVolume))

    def __init__(self) -> None:
        super().__init__(CREATE)

    async def admit(self, attrs: Attributes) -> None:
        obj = attrs.object
        if attrs.subresource:
            return
        if isinstance(obj, core_pb2.PersistentVolumeClaim):
            finalizer = constants.PVC_PROTECTION_FINALIZER
        elif isinstance(obj, core_pb2.PersistentVolume):
            finalizer = constants.PV_PROTECTION_FINALIZER
        else:
            return
        if finalizer not in obj.metadata.finalizers:
            obj.metadata.finalizers.append(finalizer)
