"""The volume sources a podplane node cannot serve, and what Kubernetes 1.31's kubelet says of each
where the plugin, driver or tool it needs is missing: a pod using one stays ContainerCreating,
with FailedMount events in those words, and is tried again; it never starts without the volume.

- Sources Kubernetes redirects to a CSI driver (CSI migration: awsElasticBlockStore,
  gcePersistentDisk, azureDisk, azureFile, cinder, vsphereVolume, portworxVolume), and CSI
  persistent volumes: they must first be attached to the node by their driver's
  external-attacher, which no podplane cluster runs. The kubelet waits for the attachment:
  `Unable to attach or mount volumes: unmounted volumes=[v], unattached volumes=[v], failed to
  process volumes=[]: timed out waiting for the condition`.
- Sources whose in-tree plugin Kubernetes has removed with nothing in its place (cephfs, rbd,
  glusterfs, flocker, quobyte, scaleIO, storageos, photonPersistentDisk), flexVolume (its
  driver is not installed on the node) and image (the alpha ImageVolume feature is off):
  `... failed to process volumes=[v]: failed to get Plugin from volumeSpec for volume "v"
  err=no volume plugin matched`.
- An inline csi volume: no CSI driver is registered with the kubelet: `MountVolume.SetUp failed
  for volume "v" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name x
  not found in the list of registered CSI drivers`.
- iscsi and fc: the node has neither iscsiadm nor Fibre Channel disks: `MountVolume.WaitForAttach
  failed for volume "v" : ...`."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2

# A pod's volume, or the spec of the persistent volume bound to its claim.
VolumeSpec = core_pb2.Volume | core_pb2.PersistentVolumeSpec

# The CSI drivers of the migrated in-tree sources (csi-translation-lib's plugins).
MIGRATED_TO_CSI = {
    "aws_elastic_block_store": "ebs.csi.aws.com",
    "gce_persistent_disk": "pd.csi.storage.gke.io",
    "azure_disk": "disk.csi.azure.com",
    "azure_file": "file.csi.azure.com",
    "cinder": "cinder.csi.openstack.org",
    "vsphere_volume": "csi.vsphere.vmware.com",
    "portworx_volume": "pxd.portworx.com",
}
NO_PLUGIN = (
    "cephfs",
    "rbd",
    "glusterfs",
    "flocker",
    "quobyte",
    "scale_io",
    "storageos",
    "photon_persistent_disk",
    "flex_volume",
    "image",
)
# The node paths and the sources the kubelet serves itself (pod_volumes.py, claims.py).
SERVED = (
    "empty_dir",
    "host_path",
    "config_map",
    "secret",
    "downward_api",
    "projected",
    "persistent_volume_claim",
    "ephemeral",
    "nfs",
    "git_repo",
    "local",
)
# Kinds of unavailability: a mount that fails at set-up, one waiting for an attachment that
# never comes, one no plugin serves.
SET_UP = "setup"
UNATTACHED = "unattached"
NO_PLUGIN_MATCHED = "plugin"
TIMED_OUT = "timed out waiting for the condition"


@dataclass(frozen=True)
class Unavailable:
    """Why a volume cannot be mounted here: its kind and the message of its FailedMount."""

    kind: str
    message: str


def source_of(spec: VolumeSpec) -> str:
    """The name of the set volume source of a Volume or a PersistentVolumeSpec."""
    for field, _ in spec.ListFields():
        if field.name in SERVED or field.name in MIGRATED_TO_CSI or field.name in NO_PLUGIN:
            return field.name
        if field.name in ("csi", "iscsi", "fc"):
            return field.name
    return ""


def _iscsi_portal(spec: VolumeSpec) -> str:
    portal = spec.iscsi.target_portal
    return portal if ":" in portal else f"{portal}:3260"


def unavailable(spec: VolumeSpec, volume_name: str) -> Unavailable | None:
    """Why the volume (a pod's Volume, or the spec of a claim's PersistentVolume; `volume_name`
    is the name Kubernetes' messages give it) cannot be mounted here; None when it can."""
    source = source_of(spec)
    if source in MIGRATED_TO_CSI or (
        source == "csi" and isinstance(spec, core_pb2.PersistentVolumeSpec)
    ):
        return Unavailable(UNATTACHED, TIMED_OUT)
    if source == "csi":
        driver = spec.csi.driver
        return Unavailable(
            SET_UP,
            f'MountVolume.SetUp failed for volume "{volume_name}" : kubernetes.io/csi: '
            f"mounter.SetUpAt failed to get CSI client: driver name {driver} not found in the "
            f"list of registered CSI drivers",
        )
    if source == "iscsi":
        return Unavailable(
            SET_UP,
            f'MountVolume.WaitForAttach failed for volume "{volume_name}" : failed to get any '
            f"path for iscsi disk, last err seen:\niscsi: failed to update discoverydb to portal "
            f'{_iscsi_portal(spec)} error: exec: "iscsiadm": executable file not found in $PATH',
        )
    if source == "fc":
        return Unavailable(
            SET_UP,
            f'MountVolume.WaitForAttach failed for volume "{volume_name}" : no fc disk found',
        )
    if source in NO_PLUGIN or not source:
        return Unavailable(
            NO_PLUGIN_MATCHED,
            f'failed to get Plugin from volumeSpec for volume "{volume_name}" err=no volume '
            f"plugin matched",
        )
    return None


def wait_message(unmounted: list[str], failed: list[str], reason: str) -> str:
    """The kubelet's FailedMount of a pod whose volumes do not attach or mount (the volume
    manager's WaitForAttachAndMount)."""
    names = " ".join(unmounted)
    return (
        f"Unable to attach or mount volumes: unmounted volumes=[{names}], unattached volumes="
        f"[{names}], failed to process volumes=[{' '.join(failed)}]: {reason}"
    )
