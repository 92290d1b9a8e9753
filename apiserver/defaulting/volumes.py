"""The defaults of volume sources, a pod's and a persistent volume's (kubernetes
pkg/apis/core/v1/defaults.go and the declarative defaults of k8s.io/api's types): file modes 0644,
tokens for an hour, an emptyDir for a volume of no source, the iSCSI, RBD, Azure disk and ScaleIO
settings their plugins assume, and a claim template's Filesystem mode."""

from __future__ import annotations

from collections.abc import Iterable

from podplane.api.core.v1 import core_pb2
from podplane.volume import constants as c

DEFAULT_MODE = 0o644
TOKEN_SECONDS = 3600
# The sources a pod volume may name, in which a volume with none of them gets an emptyDir.
_POD_SOURCES = tuple(
    f.name for f in core_pb2.Volume.DESCRIPTOR.fields if f.message_type is not None
)

RBDSource = core_pb2.RBDVolumeSource | core_pb2.RBDPersistentVolumeSource
ISCSISource = core_pb2.ISCSIVolumeSource | core_pb2.ISCSIPersistentVolumeSource
ScaleIOSource = core_pb2.ScaleIOVolumeSource | core_pb2.ScaleIOPersistentVolumeSource


def downward_api_items(items: Iterable[core_pb2.DownwardAPIVolumeFile]) -> None:
    for item in items:
        if item.HasField("field_ref") and not item.field_ref.api_version:
            item.field_ref.api_version = "v1"


def _projected(source: core_pb2.ProjectedVolumeSource) -> None:
    """SetDefaults_ProjectedVolumeSource and SetDefaults_ServiceAccountTokenProjection."""
    if not source.HasField("default_mode"):
        source.default_mode = DEFAULT_MODE
    for s in source.sources:
        if s.HasField("service_account_token") and not s.service_account_token.HasField(
            "expiration_seconds"
        ):
            s.service_account_token.expiration_seconds = TOKEN_SECONDS
        if s.HasField("downward_api"):
            downward_api_items(s.downward_api.items)


def _rbd(source: RBDSource) -> None:
    source.pool = source.pool or "rbd"
    source.user = source.user or "admin"
    source.keyring = source.keyring or "/etc/ceph/keyring"


def _iscsi(source: ISCSISource) -> None:
    source.iscsi_interface = source.iscsi_interface or "default"


def _azure_disk(source: core_pb2.AzureDiskVolumeSource) -> None:
    if not source.HasField("caching_mode"):
        source.caching_mode = "ReadWrite"
    if not source.HasField("fs_type"):
        source.fs_type = "ext4"
    if not source.HasField("read_only"):
        source.read_only = False
    if not source.HasField("kind"):
        source.kind = "Shared"


def _scale_io(source: ScaleIOSource) -> None:
    source.storage_mode = source.storage_mode or "ThinProvisioned"
    source.fs_type = source.fs_type or "xfs"


def claim_spec(spec: core_pb2.PersistentVolumeClaimSpec) -> None:
    """SetDefaults_PersistentVolumeClaimSpec."""
    if not spec.HasField("volume_mode"):
        spec.volume_mode = c.FILESYSTEM


def pod_volume(v: core_pb2.Volume) -> None:
    """SetDefaults_Volume and the defaults of its source."""
    if not any(v.HasField(name) for name in _POD_SOURCES):
        v.empty_dir.SetInParent()
    for source in ("config_map", "secret"):
        if v.HasField(source) and not getattr(v, source).HasField("default_mode"):
            getattr(v, source).default_mode = DEFAULT_MODE
    if v.HasField("downward_api"):
        downward_api_items(v.downward_api.items)
        if not v.downward_api.HasField("default_mode"):
            v.downward_api.default_mode = DEFAULT_MODE
    if v.HasField("projected"):
        _projected(v.projected)
    if v.HasField("iscsi"):
        _iscsi(v.iscsi)
    if v.HasField("rbd"):
        _rbd(v.rbd)
    if v.HasField("azure_disk"):
        _azure_disk(v.azure_disk)
    if v.HasField("scale_io"):
        _scale_io(v.scale_io)
    if v.HasField("ephemeral") and v.ephemeral.HasField("volume_claim_template"):
        claim_spec(v.ephemeral.volume_claim_template.spec)


def persistent_volume_source(spec: core_pb2.PersistentVolumeSpec) -> None:
    """The source defaults of SetObjectDefaults_PersistentVolume."""
    if spec.HasField("rbd"):
        _rbd(spec.rbd)
    if spec.HasField("iscsi"):
        _iscsi(spec.iscsi)
    if spec.HasField("azure_disk"):
        _azure_disk(spec.azure_disk)
    if spec.HasField("scale_io"):
        _scale_io(spec.scale_io)
