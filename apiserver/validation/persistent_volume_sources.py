"""Where a persistent volume's data lives (kubernetes pkg/apis/core/validation: the source checks
of ValidatePersistentVolumeSpec): exactly one source, the first set in Kubernetes' order counting
(but for flexVolume, which Kubernetes never refuses as a second source), each by its rules."""

from __future__ import annotations

from apiserver.validation import csi_sources, fields, volume_plugins
from apiserver.validation.fields import FieldError
from apiserver.validation.paths import no_backsteps
from apiserver.validation.volume_plugins import Source, host_path
from podplane.api.core.v1 import core_pb2

MORE_THAN_ONE = "may not specify more than 1 volume type"


def _local(path: str, source: core_pb2.LocalVolumeSource) -> list[FieldError]:
    if not source.path:
        return [fields.required(f"{path}.path")]
    return no_backsteps(f"{path}.path", source.path)


# In the order ValidatePersistentVolumeSpec looks at them; iscsi's check also needs the volume's
# name, and local its node affinity: persistent_volume_source passes them.
SOURCES = (
    Source("host_path", "hostPath", "hostPath", host_path),
    Source(
        "gce_persistent_disk",
        "gcePersistentDisk",
        "persistentDisk",
        volume_plugins.gce_persistent_disk,
    ),
    Source(
        "aws_elastic_block_store",
        "awsElasticBlockStore",
        "awsElasticBlockStore",
        volume_plugins.aws_elastic_block_store,
    ),
    Source("glusterfs", "glusterfs", "glusterfs", volume_plugins.glusterfs),
    Source("flocker", "flocker", "flocker", volume_plugins.flocker),
    Source("nfs", "nfs", "nfs", volume_plugins.nfs),
    Source("rbd", "rbd", "rbd", volume_plugins.rbd),
    Source("quobyte", "quobyte", "quobyte", volume_plugins.quobyte),
    Source("cephfs", "cephFS", "cephfs", volume_plugins.cephfs),
    Source("iscsi", "iscsi", "iscsi"),
    Source("cinder", "cinder", "cinder", volume_plugins.cinder),
    Source("fc", "fc", "fc", volume_plugins.fc),
    Source("flex_volume", "flexVolume", "flexVolume", volume_plugins.flex_volume),
    Source("azure_file", "azureFile", "azureFile", volume_plugins.azure_file),
    Source("vsphere_volume", "vsphereVolume", "vsphereVolume", volume_plugins.vsphere_volume),
    Source(
        "photon_persistent_disk",
        "photonPersistentDisk",
        "photonPersistentDisk",
        volume_plugins.photon_persistent_disk,
    ),
    Source("portworx_volume", "portworxVolume", "portworxVolume", volume_plugins.portworx_volume),
    Source("azure_disk", "azureDisk", "azureDisk", volume_plugins.azure_disk),
    Source("scale_io", "scaleIO", "scaleIO", volume_plugins.scale_io),
    Source("local", "local", "local", _local),
    Source("storageos", "storageos", "storageos", volume_plugins.storageos),
    Source("csi", "csi", "csi", csi_sources.csi_persistent),
)
SOURCE_FIELDS = tuple(s.field for s in SOURCES)


def persistent_volume_source(
    spec: core_pb2.PersistentVolumeSpec, path: str, volume_name: str, has_node_affinity: bool
) -> list[FieldError]:
    errs: list[FieldError] = []
    found = 0
    for source in SOURCES:
        if not spec.HasField(source.field):
            continue
        if found and source.field != "flex_volume":
            errs.append(fields.forbidden(f"{path}.{source.name}", MORE_THAN_ONE))
            continue
        found += 1
        p = f"{path}.{source.path}"
        if source.field == "iscsi":
            errs += volume_plugins.iscsi(p, spec.iscsi, volume_name)
        elif source.check is not None:
            errs += source.check(p, getattr(spec, source.field))
        if source.field == "local" and not has_node_affinity:
            errs.append(
                fields.required(f"{path}.nodeAffinity", "Local volume requires node affinity")
            )
    if not found:
        errs.append(fields.required(path, "must specify a volume type"))
    return errs


def source_of(spec: core_pb2.PersistentVolumeSpec) -> core_pb2.PersistentVolumeSpec:
    """The spec's PersistentVolumeSource fields alone, to compare (with a CSI volume's
    controllerExpandSecretRef as it may be added later left out)."""
    out = core_pb2.PersistentVolumeSpec()
    for name in SOURCE_FIELDS:
        if spec.HasField(name):
            getattr(out, name).CopyFrom(getattr(spec, name))
    return out
