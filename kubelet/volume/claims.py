"""persistentVolumeClaim and ephemeral volumes: the claim (an ephemeral volume's is
`<pod>-<volume>`, which must be the pod's own), the volume bound to it, and where that volume's
data is on this node (kubelet's desired_state_of_world_populator: getPVCExtractPV, getPVSpec). A
volume whose data is a directory of the node (hostPath, the local-path provisioner's, and local)
is bind-mounted; an nfs one is mounted first (nfs.py); any other source is one the node cannot
serve (plugins.py). A claim that is not usable yet (not bound, being deleted, its volume not
found) is a VolumeNotReady: the pod waits in ContainerCreating, with FailedMount events, until it
is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kubelet.volume.errors import VolumeNotReady
from kubelet.volume.plugins import NO_PLUGIN_MATCHED, Unavailable, unavailable
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client, is_not_found
from podplane.volume import constants, ephemeral


class VolumeObjectGetter(Protocol):
    """Where the kubelet reads the claims its pods use and their volumes; None when there is
    none."""

    async def persistent_volume_claim(
        self, namespace: str, name: str
    ) -> core_pb2.PersistentVolumeClaim | None: ...

    async def persistent_volume(self, name: str) -> core_pb2.PersistentVolume | None: ...


class ClientVolumeGetter:
    """Reads them from the apiserver (the node authorizer lets a kubelet get the claims of its
    pods and the volumes bound to them)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def persistent_volume_claim(
        self, namespace: str, name: str
    ) -> core_pb2.PersistentVolumeClaim | None:
        try:
            return await self.client.persistentvolumeclaims.get(name, namespace)
        except Exception as e:
            if is_not_found(e):
                return None
            raise VolumeNotReady(f'failed to get persistentvolumeclaim "{name}": {e}') from e

    async def persistent_volume(self, name: str) -> core_pb2.PersistentVolume | None:
        try:
            return await self.client.persistentvolumes.get(name)
        except Exception as e:
            if is_not_found(e):
                return None
            raise VolumeNotReady(f'failed to get persistentvolume "{name}": {e}') from e


@dataclass(frozen=True)
class ClaimMount:
    """A claim's volume on this node: the directory, what must exist there (a hostPath type),
    and whether the pod mounts it read-only; or the NFS export to mount first (with the
    volume's mountOptions), `path` then being where."""

    path: str
    host_path_type: str
    read_only: bool
    nfs: core_pb2.NFSVolumeSource | None = None
    mount_options: tuple[str, ...] = ()
    # The persistent volume's name (the name Kubernetes' mount messages give the volume).
    volume_name: str = ""


class ClaimUnavailable(VolumeNotReady):
    """The claim's volume is of a source the node cannot serve (plugins.py)."""

    def __init__(self, why: Unavailable) -> None:
        super().__init__(why.message)
        self.why = why


async def resolve_claim(
    getter: VolumeObjectGetter | None, pod: core_pb2.Pod, volume: core_pb2.Volume
) -> ClaimMount:
    namespace = pod.metadata.namespace
    name = ephemeral.claim_name(pod, volume) or ""
    read_only = volume.persistent_volume_claim.read_only
    where = f"error processing PVC {namespace}/{name}"
    if getter is None:
        raise VolumeNotReady(f"{where}: no apiserver to read it from")
    claim = await getter.persistent_volume_claim(namespace, name)
    if claim is None:
        raise VolumeNotReady(
            f"{where}: failed to fetch PVC from API server: persistentvolumeclaims "
            f'"{name}" not found'
        )
    if claim.metadata.deletion_timestamp:
        raise VolumeNotReady(
            f"{where}: can't start pod because PVC {namespace}/{name} is being deleted"
        )
    if claim.status.phase != constants.CLAIM_BOUND:
        raise VolumeNotReady(f"{where}: PVC is not bound")
    if not claim.spec.volume_name:
        raise VolumeNotReady(f"{where}: PVC has empty pvc.Spec.VolumeName")
    if volume.HasField("ephemeral"):
        not_for_pod = ephemeral.volume_is_for_pod(pod, claim)
        if not_for_pod is not None:
            raise VolumeNotReady(not_for_pod)
    pv = await getter.persistent_volume(claim.spec.volume_name)
    if pv is None:
        raise VolumeNotReady(
            f"{where}: failed to fetch PV {claim.spec.volume_name} from API server: "
            f'persistentvolumes "{claim.spec.volume_name}" not found'
        )
    ref = pv.spec.claim_ref
    if not pv.spec.HasField("claim_ref"):
        raise VolumeNotReady(
            f"{where}: found PV object {pv.metadata.name} but it has a nil pv.Spec.ClaimRef "
            f"indicating it is not yet bound to the claim"
        )
    if ref.uid != claim.metadata.uid:
        raise VolumeNotReady(
            f"{where}: found PV object {pv.metadata.name} but its pv.Spec.ClaimRef.UID "
            f"{ref.uid} does not point to claim.UID {claim.metadata.uid}"
        )
    return _volume_mount(pv, read_only)


def _volume_mount(pv: core_pb2.PersistentVolume, read_only: bool) -> ClaimMount:
    spec, name = pv.spec, pv.metadata.name
    if spec.HasField("host_path"):
        return ClaimMount(spec.host_path.path, spec.host_path.type, read_only, volume_name=name)
    if spec.HasField("local"):
        return ClaimMount(spec.local.path, "Directory", read_only, volume_name=name)
    if spec.HasField("nfs"):
        options = tuple(spec.mount_options)
        return ClaimMount("", "", read_only, spec.nfs, options, volume_name=name)
    why = unavailable(spec, name)
    raise ClaimUnavailable(why or Unavailable(NO_PLUGIN_MATCHED, f"volume {name} has no source"))
