"""syncClaim and syncVolume (kubernetes pv_controller.go), each branch as Kubernetes takes it, and
the writes binding is made of. Every write goes through the API with a copy; what it returns is
remembered (NewestObjects) so that the next sync does not act on an older copy."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from google.protobuf.message import Message

from controller.persistentvolume.newest import NewestObjects
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.client.clientset import Client, is_not_found
from podplane.client.events import NORMAL, WARNING, EventRecorder
from podplane.volume import constants as c
from podplane.volume import helpers

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Message)

NO_CLASS_MESSAGE = "no persistent volumes available for this claim and no storage class is set"
EXTERNAL_PROVISIONING = (
    "Waiting for a volume to be created either by the external provisioner '{}' or manually by "
    "the system administrator. If volume creation is delayed, please verify that the "
    "provisioner is running and correctly registered."
)

# A class by name, None if there is none.
ClassGetter = Callable[[str], storage_pb2.StorageClass | None]
# The names of the pods not scheduled yet that use a claim.
UnscheduledUsers = Callable[[core_pb2.PersistentVolumeClaim], list[str]]


def _copy(obj: M) -> M:
    out = type(obj)()
    out.CopyFrom(obj)
    return out


def claim_reference(claim: core_pb2.PersistentVolumeClaim) -> core_pb2.ObjectReference:
    """reference.GetReference of a claim: what a bound volume's claimRef holds."""
    meta = claim.metadata
    return core_pb2.ObjectReference(
        kind="PersistentVolumeClaim",
        namespace=meta.namespace,
        name=meta.name,
        uid=meta.uid,
        api_version="v1",
        resource_version=meta.resource_version,
    )


def volume_unsatisfying(
    volume: core_pb2.PersistentVolume, claim: core_pb2.PersistentVolumeClaim
) -> str | None:
    """checkVolumeSatisfyClaim: why a volume a claim asks for by name cannot be bound to it."""
    if volume.metadata.deletion_timestamp:
        return f'the volume is marked for deletion "{volume.metadata.name}"'
    if helpers.volume_capacity(volume) < helpers.claim_request(claim):
        return "requested PV is too small"
    if helpers.volume_class(volume) != helpers.claim_class(claim):
        return "storageClassName does not match"
    if helpers.volume_mode_mismatch(claim.spec, volume.spec):
        return "incompatible volumeMode"
    if not helpers.contains_access_modes(volume.spec.access_modes, claim.spec.access_modes):
        return "incompatible accessMode"
    return None


class Syncer:
    def __init__(
        self,
        client: Client,
        volumes: NewestObjects[core_pb2.PersistentVolume],
        claims: NewestObjects[core_pb2.PersistentVolumeClaim],
        classes: ClassGetter,
        unscheduled_users: UnscheduledUsers,
        recorder: EventRecorder,
    ) -> None:
        self.client = client
        self.volumes = volumes
        self.claims = claims
        self.classes = classes
        self.unscheduled_users = unscheduled_users
        self.recorder = recorder

    # ------------------------------------------------------------------ claims
    async def sync_claim(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        if c.ANN_BIND_COMPLETED not in claim.metadata.annotations:
            await self._sync_unbound_claim(claim)
        else:
            await self._sync_bound_claim(claim)

    async def _sync_unbound_claim(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        if not claim.spec.volume_name:
            # The user does not care which volume.
            delay = helpers.is_delay_binding(claim, self.classes)
            volume = helpers.find_best_match_for_claim(claim, self.volumes.list(), delay)
            if volume is not None:
                await self.bind(volume, claim)
                return
            if delay and not helpers.is_delay_binding_provisioning(claim):
                self._waiting_for_consumer(claim)
            elif helpers.claim_class(claim):
                await self._provision(claim)
                return
            else:
                self.recorder.record(claim, NORMAL, "FailedBinding", NO_CLASS_MESSAGE)
            await self._claim_phase(claim, c.CLAIM_PENDING, None)
            return
        # The user asked for a volume by name.
        volume = self.volumes.get(claim.spec.volume_name)
        if volume is None:
            await self._claim_phase(claim, c.CLAIM_PENDING, None)  # it may come later
        elif not volume.spec.HasField("claim_ref"):
            reason = volume_unsatisfying(volume, claim)
            if reason is None:
                await self.bind(volume, claim)
                return
            self.recorder.record(
                claim,
                WARNING,
                "VolumeMismatch",
                f'Cannot bind to requested volume "{volume.metadata.name}": {reason}',
            )
            await self._claim_phase(claim, c.CLAIM_PENDING, None)
        elif helpers.is_volume_bound_to_claim(volume, claim):
            await self.bind(volume, claim)  # finish the binding (the claim's uid, say)
        elif c.ANN_BOUND_BY_CONTROLLER not in claim.metadata.annotations:
            await self._claim_phase(claim, c.CLAIM_PENDING, None)  # taken: retried later
        else:
            ref = volume.spec.claim_ref
            raise RuntimeError(
                f'invalid binding of claim "{helpers.claim_key(claim)}" to volume '
                f'"{volume.metadata.name}": volume already claimed by '
                f'"{helpers.claim_ref_key(ref)}"'
            )

    def _waiting_for_consumer(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        """emitEventForUnboundDelayBindingClaim."""
        pods = self.unscheduled_users(claim)
        if not pods:
            reason, message = (
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
            )
        elif len(pods) == 1:
            reason, message = "WaitForPodScheduled", f"waiting for pod {pods[0]} to be scheduled"
        else:
            reason = "WaitForPodScheduled"
            message = f"waiting for pods {','.join(pods)} to be scheduled"
        self.recorder.record(claim, NORMAL, reason, message)

    async def _provision(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        """provisionClaimOperation for an external provisioner: the claim is annotated with the
        class's provisioner, which makes a volume bound to it (and the next sync binds them)."""
        name = helpers.claim_class(claim)
        storage_class = self.classes(name)
        if storage_class is None:
            self.recorder.record(
                claim,
                WARNING,
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{name}" not found',
            )
            await self._claim_phase(claim, c.CLAIM_PENDING, None)
            return
        provisioner = storage_class.provisioner
        if provisioner.startswith("kubernetes.io/"):
            # In-tree plugins (kubernetes.io/no-provisioner among them): none is built in.
            self.recorder.record(
                claim,
                WARNING,
                "ProvisioningFailed",
                f"no volume plugin matched name: {provisioner}",
            )
            await self._claim_phase(claim, c.CLAIM_PENDING, None)
            return
        if claim.metadata.annotations.get(c.ANN_STORAGE_PROVISIONER) != provisioner:
            annotated = _copy(claim)
            annotated.metadata.annotations[c.ANN_BETA_STORAGE_PROVISIONER] = provisioner
            annotated.metadata.annotations[c.ANN_STORAGE_PROVISIONER] = provisioner
            claim = self.claims.wrote(await self.client.persistentvolumeclaims.update(annotated))
        self.recorder.record(
            claim, NORMAL, "ExternalProvisioning", EXTERNAL_PROVISIONING.format(provisioner)
        )

    async def _sync_bound_claim(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        if not claim.spec.volume_name:
            await self._claim_lost(
                claim,
                "ClaimLost",
                "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
            )
            return
        volume = self.volumes.get(claim.spec.volume_name)
        if volume is None:
            await self._claim_lost(
                claim,
                "ClaimLost",
                "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
            )
        elif not volume.spec.HasField("claim_ref") or (
            volume.spec.claim_ref.uid == claim.metadata.uid
        ):
            await self.bind(volume, claim)  # fix, or confirm, every half of the binding
        else:
            await self._claim_lost(
                claim,
                "ClaimMisbound",
                "Two claims are bound to the same volume, this one is bound incorrectly",
            )

    async def _claim_lost(
        self, claim: core_pb2.PersistentVolumeClaim, reason: str, message: str
    ) -> None:
        if claim.status.phase != c.CLAIM_LOST:
            self.recorder.record(claim, WARNING, reason, message)
        await self._claim_phase(claim, c.CLAIM_LOST, None)

    # ------------------------------------------------------------------ volumes
    async def sync_volume(self, volume: core_pb2.PersistentVolume) -> str | None:
        """Returns the key of a claim that should be synced next, if any."""
        if not volume.spec.HasField("claim_ref") or not volume.spec.claim_ref.uid:
            # Unused, or reserved for a claim that the claim's sync will bind.
            await self._volume_phase(volume, c.VOLUME_AVAILABLE)
            return None
        ref = volume.spec.claim_ref
        claim = self.claims.get(helpers.claim_ref_key(ref))
        if (claim is None or claim.metadata.uid != ref.uid) and volume.status.phase not in (
            c.VOLUME_RELEASED,
            c.VOLUME_FAILED,
        ):
            # A claim created by a provisioner or binder moments ago may not be cached yet: ask
            # the apiserver before releasing the volume.
            claim = await self._live_claim(ref)
        if claim is not None and claim.metadata.uid != ref.uid:
            claim = None  # deleted, and another of the same name made since
        if claim is None:
            if volume.status.phase not in (c.VOLUME_RELEASED, c.VOLUME_FAILED):
                log.info(
                    "volume %s is released; reclaim policy %s",
                    volume.metadata.name,
                    volume.spec.persistent_volume_reclaim_policy,
                )
                volume = await self._volume_phase(volume, c.VOLUME_RELEASED)
            await self._reclaim(volume)
            return None
        if not claim.spec.volume_name:
            if helpers.volume_mode_mismatch(claim.spec, volume.spec):
                self.recorder.record(
                    volume,
                    WARNING,
                    "VolumeMismatch",
                    "Cannot bind PersistentVolume to requested PersistentVolumeClaim "
                    f'"{claim.metadata.name}" due to incompatible volumeMode.',
                )
                self.recorder.record(
                    claim,
                    WARNING,
                    "VolumeMismatch",
                    f'Cannot bind PersistentVolume "{volume.metadata.name}" to requested '
                    "PersistentVolumeClaim due to incompatible volumeMode.",
                )
                return None
            # The volume is bound, the claim not yet: its sync finishes the binding (and binds
            # a freshly provisioned volume sooner than the next periodic sync would).
            return helpers.claim_key(claim)
        if claim.spec.volume_name == volume.metadata.name:
            await self._volume_phase(volume, c.VOLUME_BOUND)
            return None
        # The claim is bound to another volume.
        if (
            c.ANN_DYNAMICALLY_PROVISIONED in volume.metadata.annotations
            and volume.spec.persistent_volume_reclaim_policy == c.RECLAIM_DELETE
        ):
            # Provisioned for this claim, which was bound elsewhere: not needed.
            if volume.status.phase not in (c.VOLUME_RELEASED, c.VOLUME_FAILED):
                volume = await self._volume_phase(volume, c.VOLUME_RELEASED)
            await self._reclaim(volume)
        else:
            await self._unbind(volume)
        return None

    async def _live_claim(
        self, ref: core_pb2.ObjectReference
    ) -> core_pb2.PersistentVolumeClaim | None:
        try:
            return await self.client.persistentvolumeclaims.get(ref.name, ref.namespace)
        except Exception as e:
            if is_not_found(e):
                return None
            raise

    async def _reclaim(self, volume: core_pb2.PersistentVolume) -> None:
        """reclaimVolume: Retain keeps the volume; Delete is its provisioner's to carry out (the
        controller has no volume plugins of its own); Recycle is not supported."""
        policy = volume.spec.persistent_volume_reclaim_policy
        if policy == c.RECLAIM_RETAIN:
            return
        if policy == c.RECLAIM_DELETE:
            provisioner = volume.metadata.annotations.get(c.ANN_DYNAMICALLY_PROVISIONED, "")
            if provisioner and not provisioner.startswith("kubernetes.io/"):
                return  # an external deleter's
            await self._volume_phase(
                volume,
                c.VOLUME_FAILED,
                "VolumeFailedDelete",
                f'error getting deleter volume plugin for volume "{volume.metadata.name}": no '
                f"deletable volume plugin matched",
            )
            return
        if policy == c.RECLAIM_RECYCLE:
            await self._volume_phase(
                volume,
                c.VOLUME_FAILED,
                "VolumeFailedRecycle",
                "No recycler plugin found for the volume!",
            )
            return
        await self._volume_phase(
            volume,
            c.VOLUME_FAILED,
            "VolumeUnknownReclaimPolicy",
            "Volume has unrecognized PersistentVolumeReclaimPolicy",
        )

    async def _unbind(self, volume: core_pb2.PersistentVolume) -> None:
        """unbindVolume: a volume the controller bound gives its claimRef up; one its creator
        bound keeps the reservation but loses the claim's uid. Either way it is Available."""
        unbound = _copy(volume)
        if c.ANN_BOUND_BY_CONTROLLER in unbound.metadata.annotations:
            unbound.spec.ClearField("claim_ref")
            del unbound.metadata.annotations[c.ANN_BOUND_BY_CONTROLLER]
        else:
            unbound.spec.claim_ref.uid = ""
        volume = self.volumes.wrote(await self.client.persistentvolumes.update(unbound))
        await self._volume_phase(volume, c.VOLUME_AVAILABLE)

    # ------------------------------------------------------------------ binding
    async def bind(
        self, volume: core_pb2.PersistentVolume, claim: core_pb2.PersistentVolumeClaim
    ) -> None:
        """Both halves of a binding and both phases, each written only if it differs."""
        volume = await self._bind_volume_to_claim(volume, claim)
        volume = await self._volume_phase(volume, c.VOLUME_BOUND)
        claim = await self._bind_claim_to_volume(claim, volume)
        await self._claim_phase(claim, c.CLAIM_BOUND, volume)

    async def _bind_volume_to_claim(
        self, volume: core_pb2.PersistentVolume, claim: core_pb2.PersistentVolumeClaim
    ) -> core_pb2.PersistentVolume:
        """GetBindVolumeToClaim."""
        bound = _copy(volume)
        ref = volume.spec.claim_ref
        dirty = False
        by_controller = not helpers.is_volume_bound_to_claim(volume, claim)
        if not volume.spec.HasField("claim_ref") or (ref.name, ref.namespace, ref.uid) != (
            claim.metadata.name,
            claim.metadata.namespace,
            claim.metadata.uid,
        ):
            bound.spec.claim_ref.CopyFrom(claim_reference(claim))
            dirty = True
        if by_controller and c.ANN_BOUND_BY_CONTROLLER not in bound.metadata.annotations:
            bound.metadata.annotations[c.ANN_BOUND_BY_CONTROLLER] = "yes"
            dirty = True
        if not dirty:
            return volume
        log.info("binding volume %s to claim %s", volume.metadata.name, helpers.claim_key(claim))
        return self.volumes.wrote(await self.client.persistentvolumes.update(bound))

    async def _bind_claim_to_volume(
        self, claim: core_pb2.PersistentVolumeClaim, volume: core_pb2.PersistentVolume
    ) -> core_pb2.PersistentVolumeClaim:
        bound = _copy(claim)
        dirty = False
        if claim.spec.volume_name != volume.metadata.name:
            bound.spec.volume_name = volume.metadata.name
            bound.metadata.annotations.setdefault(c.ANN_BOUND_BY_CONTROLLER, "yes")
            dirty = True
        if c.ANN_BIND_COMPLETED not in bound.metadata.annotations:
            bound.metadata.annotations[c.ANN_BIND_COMPLETED] = "yes"
            dirty = True
        if not dirty:
            return claim
        return self.claims.wrote(await self.client.persistentvolumeclaims.update(bound))

    async def _claim_phase(
        self,
        claim: core_pb2.PersistentVolumeClaim,
        phase: str,
        volume: core_pb2.PersistentVolume | None,
    ) -> core_pb2.PersistentVolumeClaim:
        """updateClaimStatus: the phase, and the bound volume's access modes and (when it becomes
        Bound) capacity; cleared without a volume."""
        status = core_pb2.PersistentVolumeClaimStatus()
        status.CopyFrom(claim.status)
        status.phase = phase
        if volume is None:
            del status.access_modes[:]
            status.ClearField("capacity")
        else:
            if list(status.access_modes) != list(volume.spec.access_modes):
                del status.access_modes[:]
                status.access_modes.extend(volume.spec.access_modes)
            # Only as it becomes Bound: a claim's filesystem may differ from its device's size.
            capacity = volume.spec.capacity.get(c.STORAGE)
            have = status.capacity.get(c.STORAGE)
            if (
                claim.status.phase != phase
                and capacity is not None
                and (have is None or _size(have) != _size(capacity))
            ):
                status.ClearField("capacity")
                status.capacity.update(volume.spec.capacity)
        if status == claim.status:
            return claim
        updated = _copy(claim)
        updated.status.CopyFrom(status)
        return self.claims.wrote(await self.client.persistentvolumeclaims.update_status(updated))

    async def _volume_phase(
        self,
        volume: core_pb2.PersistentVolume,
        phase: str,
        reason: str = "",
        message: str = "",
    ) -> core_pb2.PersistentVolume:
        """updateVolumePhase (with an event when there is a reason: updateVolumePhaseWithEvent)."""
        if volume.status.phase == phase and volume.status.message == message:
            return volume
        updated = _copy(volume)
        updated.status.phase = phase
        updated.status.message = message
        written = self.volumes.wrote(await self.client.persistentvolumes.update_status(updated))
        if reason:
            self.recorder.record(written, WARNING, reason, message)
        return written


def _size(value: str) -> Decimal:
    return helpers.storage_of({c.STORAGE: value})
