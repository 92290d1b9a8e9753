"""The persistent volume controller (kubernetes pkg/controller/volume/persistentvolume,
pv_controller.go): binds claims to volumes and keeps their phases, and starts reclamation.

A claim without a volume gets the smallest Available volume of its class that fits it (access
modes, size, selector, volume mode), or one bound to it already by its creator or a provisioner.
A claim of a WaitForFirstConsumer class waits for the scheduler to pick a node
(volume.kubernetes.io/selected-node) before anything is provisioned for it; with no volume to bind
and a class, provisioning is asked of the class's provisioner (the storage-provisioner
annotations), which creates a volume bound to the claim. Binding writes the volume's claimRef, the
volume's phase (Bound), the claim's volumeName with pv.kubernetes.io/bind-completed, and the
claim's phase, capacity and access modes, in that order; each sync finishes what a previous one
left half done.

A volume whose claim is gone is Released, then reclaimed by its policy: Retain keeps it; Delete
leaves a provisioned volume to its provisioner (which deletes it) and fails one that none made.
Claims that lose their volume are Lost."""

from __future__ import annotations

import asyncio
import logging

from controller.framework.indexes import CLAIMS_INDEX, pod_claim_keys
from controller.framework.reconciler import ReconcileLoop
from controller.persistentvolume import sync
from controller.persistentvolume.newest import NewestObjects
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client
from podplane.client.events import EventRecorder
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory
from podplane.volume import helpers

log = logging.getLogger(__name__)

# How often every claim and volume is synced again (kube-controller-manager's
# --pvclaimbinder-sync-period): what no event announces, such as a claim whose wanted volume
# became bindable, is caught up with then.
SYNC_PERIOD = 15.0
CLAIM, VOLUME = "claim", "volume"


class PersistentVolumeController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, sync_period: float = SYNC_PERIOD
    ) -> None:
        self.client = client
        self.sync_period = sync_period
        self.volume_informer: Informer[core_pb2.PersistentVolume] = informers.informer_for(
            resources.PERSISTENT_VOLUME
        )
        self.claim_informer: Informer[core_pb2.PersistentVolumeClaim] = informers.informer_for(
            resources.PERSISTENT_VOLUME_CLAIM
        )
        self.classes: Informer[storage_pb2.StorageClass] = informers.informer_for(
            resources.STORAGE_CLASS
        )
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.pods.add_index(CLAIMS_INDEX, pod_claim_keys)
        self.volumes = NewestObjects(self.volume_informer)
        self.claims = NewestObjects(self.claim_informer)
        self.recorder = EventRecorder(client, "persistentvolume-controller")
        # One worker: two syncs at once could bind two claims to one volume (as Kubernetes, which
        # runs one worker per queue for that reason).
        self.loop = ReconcileLoop(
            "persistentvolume",
            self.reconcile,
            informers,
            [self.volume_informer, self.claim_informer, self.classes, self.pods],
        )
        self.volume_informer.add_handler(
            on_add=self._volume_changed,
            on_update=lambda _old, new: self._volume_changed(new),
            on_delete=self._volume_deleted,
        )
        self.claim_informer.add_handler(
            on_add=self._claim_changed,
            on_update=lambda _old, new: self._claim_changed(new),
            on_delete=self._claim_deleted,
        )
        self.syncer = sync.Syncer(
            client,
            self.volumes,
            self.claims,
            lambda name: self.classes.get(name),
            self._unscheduled_users,
            self.recorder,
        )

    async def run(self) -> None:
        resync = asyncio.create_task(self._resync(), name="persistentvolume-resync")
        try:
            await self.loop.run()
        finally:
            resync.cancel()
            await asyncio.gather(resync, return_exceptions=True)

    async def _resync(self) -> None:
        """Every sync period, each cached volume and claim as if it had changed (kubernetes'
        ctrl.resync): the informers are shared, and a resync of theirs would reach every other
        consumer of volumes and claims too."""
        if self.sync_period <= 0:
            return
        while True:
            await asyncio.sleep(self.sync_period)
            for volume in self.volume_informer.list():
                self._volume_changed(volume)
            for claim in self.claim_informer.list():
                self._claim_changed(claim)

    # ------------------------------------------------------------------ handlers: keys only
    def _volume_changed(self, volume: core_pb2.PersistentVolume) -> None:
        self.loop.enqueue(f"{VOLUME}/{volume.metadata.name}")
        if not volume.spec.HasField("claim_ref") and volume.status.phase in ("", "Available"):
            # A volume free to bind: the claims still waiting may take it now.
            for claim in self.claim_informer.list():
                if not claim.spec.volume_name:
                    self.loop.enqueue(f"{CLAIM}/{helpers.claim_key(claim)}")

    def _volume_deleted(self, volume: core_pb2.PersistentVolume) -> None:
        if volume.spec.HasField("claim_ref"):
            self.loop.enqueue(f"{CLAIM}/{helpers.claim_ref_key(volume.spec.claim_ref)}")

    def _claim_changed(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        self.loop.enqueue(f"{CLAIM}/{helpers.claim_key(claim)}")

    def _claim_deleted(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        if claim.spec.volume_name:
            self.loop.enqueue(f"{VOLUME}/{claim.spec.volume_name}")

    def _unscheduled_users(self, claim: core_pb2.PersistentVolumeClaim) -> list[str]:
        """The pods waiting to be scheduled that use the claim, by name."""
        return sorted(
            p.metadata.name
            for p in self.pods.by_index(CLAIMS_INDEX, helpers.claim_key(claim))
            if not p.spec.node_name
        )

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        kind, _, name = key.partition("/")
        if kind == CLAIM:
            claim = self.claims.get(name)
            if claim is not None:
                await self.syncer.sync_claim(claim)
        else:
            volume = self.volumes.get(name)
            if volume is not None:
                follow_up = await self.syncer.sync_volume(volume)
                if follow_up is not None:
                    self.loop.enqueue(f"{CLAIM}/{follow_up}")
        return None
