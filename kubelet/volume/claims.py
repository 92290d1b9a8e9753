"""persistentVolumeClaim volumes: the claim, the volume bound to it, and where that volume's data
is on this node (kubelet's desired_state_of_world_populator: getPVCExtractPV, getPVSpec). Only
volumes whose data is a directory of the node are mounted: hostPath (the local-path
provisioner's, DirectoryOrCreate) and local. A claim that is not usable yet (not bound, being
deleted, its volume not found) is a VolumeNotReady: the pod waits in ContainerCreating, with
FailedMount events, until it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kubelet.volume.errors import VolumeError, VolumeNotReady
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client, is_not_found
from podplane.volume import constants


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
    and whether the pod mounts it read-only."""

    path: str
    host_path_type: str
    read_only: bool


async def resolve_claim(
    getter: VolumeObjectGetter | None, pod: core_pb2.Pod, volume: core_pb2.Volume
) -> ClaimMount:
    source = volume.persistent_volume_claim
    namespace, name = pod.metadata.namespace, source.claim_name
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
    if pv.spec.HasField("host_path"):
        return ClaimMount(pv.spec.host_path.path, pv.spec.host_path.type, source.read_only)
    if pv.spec.HasField("local"):
        return ClaimMount(pv.spec.local.path, "Directory", source.read_only)
    kind = next((f.name for f, _ in pv.spec.ListFields() if f.name in ("nfs", "csi")), "its")
    raise VolumeError(
        f'volume "{volume.name}": persistent volume {pv.metadata.name}: {kind} volume source is '
        f"not supported by this kubelet (hostPath and local are)"
    )
