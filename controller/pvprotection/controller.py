"""The PV protection controller (kubernetes pkg/controller/volume/pvprotection): a volume being
deleted keeps its kubernetes.io/pv-protection finalizer while it is Bound to a claim, and loses it
(and goes) once it is not. A volume that lacks the finalizer gets it."""

from __future__ import annotations

import logging

from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory
from podplane.volume import constants

log = logging.getLogger(__name__)

FINALIZER = constants.PV_PROTECTION_FINALIZER


def is_in_use(volume: core_pb2.PersistentVolume) -> bool:
    """isBeingUsed: the PV controller says Bound."""
    return volume.status.phase == constants.VOLUME_BOUND


class PVProtectionController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = 1
    ) -> None:
        self.client = client
        self.volumes: Informer[core_pb2.PersistentVolume] = informers.informer_for(
            resources.PERSISTENT_VOLUME
        )
        self.loop = ReconcileLoop(
            "pv-protection", self.reconcile, informers, [self.volumes], workers=workers
        )
        self.volumes.add_handler(
            on_add=self._changed, on_update=lambda _old, new: self._changed(new)
        )

    async def run(self) -> None:
        await self.loop.run()

    def _changed(self, volume: core_pb2.PersistentVolume) -> None:
        deleting = bool(volume.metadata.deletion_timestamp)
        if (FINALIZER in volume.metadata.finalizers) == deleting:
            self.loop.enqueue(volume.metadata.name)

    async def reconcile(self, name: str) -> float | None:
        volume = self.volumes.get(name)
        if volume is None:
            return None
        finalizers = volume.metadata.finalizers
        if volume.metadata.deletion_timestamp and FINALIZER in finalizers:
            if is_in_use(volume):
                log.info("keeping volume %s: it is bound", name)
                return None
            await self._write_finalizers(volume, [f for f in finalizers if f != FINALIZER])
        elif not volume.metadata.deletion_timestamp and FINALIZER not in finalizers:
            await self._write_finalizers(volume, [*finalizers, FINALIZER])
        return None

    async def _write_finalizers(
        self, volume: core_pb2.PersistentVolume, finalizers: list[str]
    ) -> None:
        updated = core_pb2.PersistentVolume()
        updated.CopyFrom(volume)
        del updated.metadata.finalizers[:]
        updated.metadata.finalizers.extend(finalizers)
        try:
            await self.client.persistentvolumes.update(updated)
        except Exception as e:
            if is_not_found(e) or is_conflict(e):
                return
            raise
