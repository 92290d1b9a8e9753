"""Defaults of persistent volumes, claims, storage classes, CSI drivers and volume attachments
(pkg/apis/core/v1 and pkg/apis/storage/v1 defaults.go), and what the server sets on their
status (their registries' PrepareForCreate and PrepareForUpdate)."""

from __future__ import annotations

from apiserver.defaulting import volumes
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import csi_pb2, storage_pb2
from podplane.apimachinery import timeutil
from podplane.volume import constants as c
from podplane.volume import csi


def persistent_volume(obj: core_pb2.PersistentVolume) -> None:
    spec = obj.spec
    spec.persistent_volume_reclaim_policy = (
        spec.persistent_volume_reclaim_policy or c.RECLAIM_RETAIN
    )
    if not spec.HasField("volume_mode"):
        spec.volume_mode = c.FILESYSTEM
    volumes.persistent_volume_source(spec)


def persistent_volume_claim(obj: core_pb2.PersistentVolumeClaim) -> None:
    volumes.claim_spec(obj.spec)


def _snapshot_or_claim(ref: core_pb2.TypedLocalObjectReference) -> bool:
    group = ref.api_group if ref.HasField("api_group") else ""
    return (ref.kind, group) in (
        ("PersistentVolumeClaim", ""),
        ("VolumeSnapshot", "snapshot.storage.k8s.io"),
    )


def claim_data_sources(
    spec: core_pb2.PersistentVolumeClaimSpec, old: core_pb2.PersistentVolumeClaimSpec | None
) -> None:
    """pvcutil's DropDisabledFields, EnforceDataSourceBackwardsCompatibility and (on create)
    NormalizeDataSources: a cross-namespace dataSourceRef is dropped
    (CrossNamespaceVolumeDataSource is off in 1.31); a dataSource of a kind other than a claim
    or a snapshot is dropped when no dataSourceRef says it is meant; then, on create, each of
    dataSource and dataSourceRef is filled from the other."""
    old_ref = old is not None and old.HasField("data_source_ref")
    if spec.HasField("data_source_ref") and spec.data_source_ref.namespace and not old_ref:
        spec.ClearField("data_source_ref")
    old_source = old is not None and (old.HasField("data_source") or old_ref)
    if (
        not old_source
        and not spec.HasField("data_source_ref")
        and spec.HasField("data_source")
        and not _snapshot_or_claim(spec.data_source)
    ):
        spec.ClearField("data_source")
    if old is not None:
        return
    if spec.HasField("data_source") and not spec.HasField("data_source_ref"):
        source = spec.data_source
        spec.data_source_ref.kind, spec.data_source_ref.name = source.kind, source.name
        if source.HasField("api_group"):
            spec.data_source_ref.api_group = source.api_group
    elif spec.HasField("data_source_ref") and not spec.HasField("data_source"):
        ref = spec.data_source_ref
        if not ref.namespace:
            spec.data_source.kind, spec.data_source.name = ref.kind, ref.name
            if ref.HasField("api_group"):
                spec.data_source.api_group = ref.api_group


def storage_class(obj: storage_pb2.StorageClass) -> None:
    if not obj.HasField("reclaim_policy"):
        obj.reclaim_policy = c.RECLAIM_DELETE
    if not obj.HasField("volume_binding_mode"):
        obj.volume_binding_mode = c.IMMEDIATE


def csi_driver(obj: csi_pb2.CSIDriver) -> None:
    """SetDefaults_CSIDriver at 1.31 (SELinuxMountReadWriteOncePod on: seLinuxMount too)."""
    spec = obj.spec
    for name, value in (
        ("attach_required", True),
        ("pod_info_on_mount", False),
        ("storage_capacity", False),
        ("requires_republish", False),
        ("se_linux_mount", False),
    ):
        if not spec.HasField(name):
            setattr(spec, name, value)
    if not spec.HasField("fs_group_policy"):
        spec.fs_group_policy = csi.FS_GROUP_READ_WRITE_ONCE_WITH_FS_TYPE
    if not spec.volume_lifecycle_modes:
        spec.volume_lifecycle_modes.append(csi.LIFECYCLE_PERSISTENT)


def volume_attachment(obj: csi_pb2.VolumeAttachment) -> None:
    """An inline volume spec's sources are defaulted as a persistent volume's are."""
    if obj.spec.source.HasField("inline_volume_spec"):
        volumes.persistent_volume_source(obj.spec.source.inline_volume_spec)


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
