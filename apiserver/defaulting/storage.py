"""Defaults of persistent volumes, claims and storage classes (pkg/apis/core/v1 and
pkg/apis/storage/v1 defaults.go), and what the server sets on their status (their registries'
PrepareForCreate and PrepareForUpdate)."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import timeutil
from podplane.volume import constants as c


def persistent_volume(obj: core_pb2.PersistentVolume) -> None:
    spec = obj.spec
    spec.persistent_volume_reclaim_policy = (
        spec.persistent_volume_reclaim_policy or c.RECLAIM_RETAIN
    )
    if not spec.HasField("volume_mode"):
        spec.volume_mode = c.FILESYSTEM


def persistent_volume_claim(obj: core_pb2.PersistentVolumeClaim) -> None:
    if not obj.spec.HasField("volume_mode"):
        obj.spec.volume_mode = c.FILESYSTEM


def storage_class(obj: storage_pb2.StorageClass) -> None:
    if not obj.HasField("reclaim_policy"):
        obj.reclaim_policy = c.RECLAIM_DELETE
    if not obj.HasField("volume_binding_mode"):
        obj.volume_binding_mode = c.IMMEDIATE


def new_persistent_volume_status(obj: core_pb2.PersistentVolume) -> None:
    """A new volume has observed nothing: Pending, since now."""
    obj.ClearField("status")
    obj.status.phase = c.VOLUME_PENDING
    obj.status.last_phase_transition_time = timeutil.now()


def new_persistent_volume_claim_status(obj: core_pb2.PersistentVolumeClaim) -> None:
    obj.ClearField("status")
    obj.status.phase = c.CLAIM_PENDING


def persistent_volume_status_update(
    new: core_pb2.PersistentVolume, old: core_pb2.PersistentVolume
) -> None:
    """lastPhaseTransitionTime follows the phase: kept while it stays, now when it changes (unless
    the writer gave a time of its own)."""
    status = new.status
    if status.phase == old.status.phase:
        if not status.last_phase_transition_time:
            status.last_phase_transition_time = old.status.last_phase_transition_time
    elif status.last_phase_transition_time in ("", old.status.last_phase_transition_time):
        status.last_phase_transition_time = timeutil.now()
