"""The persistent volume, claim and storage class tables, as printPersistentVolume,
printPersistentVolumeClaim and printStorageClass."""

from __future__ import annotations

from datetime import datetime

from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column
from podplane.volume import constants, helpers

UNSET = "<unset>"


def _phase(obj: core_pb2.PersistentVolume | core_pb2.PersistentVolumeClaim) -> str:
    return "Terminating" if obj.metadata.deletion_timestamp else obj.status.phase


def _optional(value: str, present: bool) -> str:
    return value if present else UNSET


def persistent_volume_row(pv: core_pb2.PersistentVolume, now: datetime) -> list[Cell]:
    spec = pv.spec
    claim = (
        f"{spec.claim_ref.namespace}/{spec.claim_ref.name}" if spec.HasField("claim_ref") else ""
    )
    return [
        pv.metadata.name,
        spec.capacity.get(constants.STORAGE, "0"),
        helpers.access_modes_text(spec.access_modes),
        spec.persistent_volume_reclaim_policy,
        _phase(pv),
        claim,
        helpers.volume_class(pv),
        _optional(spec.volume_attributes_class_name, spec.HasField("volume_attributes_class_name")),
        pv.status.reason,
        human_age(pv.metadata.creation_timestamp, now),
        _optional(spec.volume_mode, spec.HasField("volume_mode")),
    ]


def persistent_volume_claim_row(pvc: core_pb2.PersistentVolumeClaim, now: datetime) -> list[Cell]:
    spec = pvc.spec
    capacity = access_modes = ""
    if spec.volume_name:  # what the bound volume gives, not what was asked for
        access_modes = helpers.access_modes_text(pvc.status.access_modes)
        capacity = pvc.status.capacity.get(constants.STORAGE, "0")
    return [
        pvc.metadata.name,
        _phase(pvc),
        spec.volume_name,
        capacity,
        access_modes,
        helpers.claim_class(pvc),
        _optional(spec.volume_attributes_class_name, spec.HasField("volume_attributes_class_name")),
        human_age(pvc.metadata.creation_timestamp, now),
        _optional(spec.volume_mode, spec.HasField("volume_mode")),
    ]


def storage_class_row(sc: storage_pb2.StorageClass, now: datetime) -> list[Cell]:
    name = sc.metadata.name + (" (default)" if helpers.is_default_class(sc) else "")
    return [
        name,
        sc.provisioner,
        sc.reclaim_policy if sc.HasField("reclaim_policy") else constants.RECLAIM_DELETE,
        helpers.binding_mode(sc),
        sc.allow_volume_expansion if sc.HasField("allow_volume_expansion") else False,
        human_age(sc.metadata.creation_timestamp, now),
    ]


_PV_ACCESS_MODES_DOC = (
    "accessModes contains all ways the volume can be mounted. More info: "
    "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"
)
PERSISTENT_VOLUME_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Capacity",
            "string",
            "capacity is the description of the persistent volume's resources and capacity. "
            "More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
        ),
        Column("Access Modes", "string", _PV_ACCESS_MODES_DOC),
        Column(
            "Reclaim Policy",
            "string",
            "persistentVolumeReclaimPolicy defines what happens to a persistent volume when "
            "released from its claim. Valid options are Retain (default for manually created "
            "PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), "
            "and Recycle (deprecated). Recycle must be supported by the volume plugin underlying "
            "this PersistentVolume. More info: "
            "https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming",
        ),
        Column(
            "Status",
            "string",
            "phase indicates if a volume is available, bound to a claim, or released by a claim. "
            "More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase",
        ),
        Column(
            "Claim",
            "string",
            "claimRef is part of a bi-directional binding between PersistentVolume and "
            "PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the "
            "authoritative bind between PV and PVC. More info: "
            "https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding",
        ),
        Column("StorageClass", "string", "StorageClass of the pv"),
        Column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
        Column(
            "Reason",
            "string",
            "reason is a brief CamelCase string that describes any failure and is meant for "
            "machine parsing and tidy display in the CLI.",
        ),
        age_column(),
        Column(
            "VolumeMode",
            "string",
            "volumeMode defines if a volume is intended to be used with a formatted filesystem "
            "or to remain in raw block state. Value of Filesystem is implied when not included "
            "in spec.",
            priority=1,
        ),
    ),
    row=persistent_volume_row,
)
PERSISTENT_VOLUME_CLAIM_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Status", "string", "phase represents the current phase of PersistentVolumeClaim."),
        Column(
            "Volume",
            "string",
            "volumeName is the binding reference to the PersistentVolume backing this claim.",
        ),
        Column(
            "Capacity",
            "string",
            "capacity represents the actual resources of the underlying volume.",
        ),
        Column(
            "Access Modes",
            "string",
            "accessModes contains the actual access modes the volume backing the PVC has. More "
            "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
        ),
        Column("StorageClass", "string", "StorageClass of the pvc"),
        Column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
        age_column(),
        Column(
            "VolumeMode",
            "string",
            "volumeMode defines what type of volume is required by the claim. Value of "
            "Filesystem is implied when not included in claim spec.",
            priority=1,
        ),
    ),
    row=persistent_volume_claim_row,
)
STORAGE_CLASS_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Provisioner", "string", "provisioner indicates the type of the provisioner."),
        Column(
            "ReclaimPolicy",
            "string",
            "reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
            "PersistentVolumes of this storage class. Defaults to Delete.",
        ),
        Column(
            "VolumeBindingMode",
            "string",
            "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and "
            "bound.  When unset, VolumeBindingImmediate is used. This field is only honored by "
            "servers that enable the VolumeScheduling feature.",
        ),
        Column(
            "AllowVolumeExpansion",
            "string",
            "allowVolumeExpansion shows whether the storage class allow volume expand.",
        ),
        age_column(),
    ),
    row=storage_class_row,
)
