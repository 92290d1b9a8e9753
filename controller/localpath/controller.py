"""The local-path provisioner (rancher/local-path-provisioner, which kind runs as its default
storage, over sigs.k8s.io/sig-storage-lib-external-provisioner), run in the controller-manager.

For a claim whose class names this provisioner, once the PV controller has asked for a volume
(volume.kubernetes.io/storage-provisioner) and the scheduler has chosen the node of the claim's
first pod (volume.kubernetes.io/selected-node), it creates the volume pvc-<claim uid>: a hostPath
directory <base>/pvc-<uid>_<namespace>_<name> on that node (DirectoryOrCreate: the kubelet makes
it on first mount), with node affinity to the node, bound to the claim; the PV controller then
binds the claim to it. When such a volume is Released with reclaim policy Delete, a short-lived
helper pod on its node removes the directory (busybox `rm -rf`), and then the volume is deleted.

At start it creates the class it serves, `standard`, the cluster's default, if there is none of
that name (kind's manifests ship the class with the provisioner; so does this controller)."""

from __future__ import annotations

import logging

from controller.framework.reconciler import ReconcileLoop
from controller.localpath import volumes
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_already_exists, is_not_found
from podplane.client.events import NORMAL, WARNING, EventRecorder
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory
from podplane.volume import constants as c
from podplane.volume import helpers

log = logging.getLogger(__name__)

CLAIM, VOLUME = "claim", "volume"
DEFAULT_CLASS = "standard"
HELPER_NAMESPACE = "kube-system"
# How soon to look at a helper pod again while it runs.
HELPER_POLL_SECONDS = 1.0


class LocalPathProvisioner:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        provisioner: str = volumes.DEFAULT_PROVISIONER,
        base_dir: str = volumes.DEFAULT_BASE_DIR,
        helper_image: str = volumes.DEFAULT_HELPER_IMAGE,
        helper_namespace: str = HELPER_NAMESPACE,
        default_class: str | None = DEFAULT_CLASS,
    ) -> None:
        self.client = client
        self.provisioner = provisioner
        self.base_dir = base_dir
        self.helper_image = helper_image
        self.helper_namespace = helper_namespace
        self.default_class = default_class
        self.claims: Informer[core_pb2.PersistentVolumeClaim] = informers.informer_for(
            resources.PERSISTENT_VOLUME_CLAIM
        )
        self.volumes: Informer[core_pb2.PersistentVolume] = informers.informer_for(
            resources.PERSISTENT_VOLUME
        )
        self.classes: Informer[storage_pb2.StorageClass] = informers.informer_for(
            resources.STORAGE_CLASS
        )
        self.recorder = EventRecorder(client, f"{provisioner}_controller-manager")
        self.loop = ReconcileLoop(
            "local-path-provisioner",
            self.reconcile,
            informers,
            [self.claims, self.volumes, self.classes],
            workers=2,
        )
        self.claims.add_handler(
            on_add=self._claim_changed, on_update=lambda _old, new: self._claim_changed(new)
        )
        self.volumes.add_handler(
            on_add=self._volume_changed, on_update=lambda _old, new: self._volume_changed(new)
        )

    async def run(self) -> None:
        if self.default_class:
            await self._ensure_default_class(self.default_class)
        await self.loop.run()

    async def _ensure_default_class(self, name: str) -> None:
        try:
            await self.client.storageclasses.create(volumes.default_class(name, self.provisioner))
            log.info("created the default storage class %s (%s)", name, self.provisioner)
        except Exception as e:
            if not is_already_exists(e):
                raise

    # ------------------------------------------------------------------ handlers: keys only
    def _claim_changed(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        if claim.metadata.annotations.get(c.ANN_STORAGE_PROVISIONER) == self.provisioner:
            self.loop.enqueue(f"{CLAIM}/{helpers.claim_key(claim)}")

    def _volume_changed(self, volume: core_pb2.PersistentVolume) -> None:
        if self._deletable(volume):
            self.loop.enqueue(f"{VOLUME}/{volume.metadata.name}")

    def _deletable(self, volume: core_pb2.PersistentVolume) -> bool:
        """shouldDelete: Released, reclaim policy Delete, made by this provisioner, and not
        deleted already."""
        return (
            not volume.metadata.deletion_timestamp
            and volume.status.phase == c.VOLUME_RELEASED
            and volume.spec.persistent_volume_reclaim_policy == c.RECLAIM_DELETE
            and volume.metadata.annotations.get(c.ANN_DYNAMICALLY_PROVISIONED) == self.provisioner
        )

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        kind, _, name = key.partition("/")
        if kind == CLAIM:
            claim = self.claims.get(name)
            if claim is not None:
                await self._provision(claim)
            return None
        volume = self.volumes.get(name)
        if volume is None or not self._deletable(volume):
            return None
        return await self._delete(volume)

    def _class_of(self, claim: core_pb2.PersistentVolumeClaim) -> storage_pb2.StorageClass | None:
        storage_class = self.classes.get(helpers.claim_class(claim))
        if storage_class is None or storage_class.provisioner != self.provisioner:
            return None
        return storage_class

    async def _provision(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        """shouldProvision, then Provision."""
        if claim.spec.volume_name or claim.metadata.deletion_timestamp:
            return
        if claim.metadata.annotations.get(c.ANN_STORAGE_PROVISIONER) != self.provisioner:
            return
        storage_class = self._class_of(claim)
        if storage_class is None:
            return
        node = claim.metadata.annotations.get(c.ANN_SELECTED_NODE)
        if helpers.binding_mode(storage_class) == c.WAIT_FOR_FIRST_CONSUMER and not node:
            return  # the scheduler has not chosen a node yet
        name = volumes.volume_name(claim)
        if self.volumes.get(name) is not None:
            return  # made already
        if not node:
            self._failed(claim, "configuration error, no node was specified")
            return
        modes = [m for m in claim.spec.access_modes if m not in volumes.SUPPORTED_ACCESS_MODES]
        if modes:
            self._failed(claim, "Only support ReadWriteOnce and ReadWriteOncePod access modes")
            return
        key = helpers.claim_key(claim)
        self.recorder.record(
            claim,
            NORMAL,
            "Provisioning",
            f'External provisioner is provisioning volume for claim "{key}"',
        )
        base = storage_class.parameters.get(volumes.NODE_PATH_PARAMETER) or self.base_dir
        path = volumes.volume_dir(base, claim)
        pv = volumes.new_volume(claim, storage_class, node, path, self.provisioner)
        try:
            await self.client.persistentvolumes.create(pv)
        except Exception as e:
            if not is_already_exists(e):
                self._failed(claim, f"failed to create volume {name}: {e}")
                raise
        log.info("provisioned volume %s for claim %s on node %s at %s", name, key, node, path)
        self.recorder.record(
            claim, NORMAL, "ProvisioningSucceeded", f"Successfully provisioned volume {name}"
        )

    def _failed(self, claim: core_pb2.PersistentVolumeClaim, message: str) -> None:
        self.recorder.record(
            claim,
            WARNING,
            "ProvisioningFailed",
            f'failed to provision volume with StorageClass "{helpers.claim_class(claim)}": '
            f"{message}",
        )

    async def _delete(self, volume: core_pb2.PersistentVolume) -> float | None:
        """Removes the volume's directory with a helper pod, then the volume."""
        name = volume.metadata.name
        node = volumes.volume_node(volume)
        if node is not None and await self._node_exists(node):
            done = await self._run_helper(volume, node)
            if done is None:
                return HELPER_POLL_SECONDS
        else:
            log.warning("volume %s: its node %s is gone; nothing to clean up", name, node)
        try:
            await self.client.persistentvolumes.delete(name, uid=volume.metadata.uid)
        except Exception as e:
            if not is_not_found(e):
                raise
        log.info("deleted volume %s and its directory %s", name, volumes.volume_path(volume))
        return None

    async def _node_exists(self, node: str) -> bool:
        try:
            await self.client.nodes.get(node)
        except Exception as e:
            if is_not_found(e):
                return False
            raise
        return True

    async def _run_helper(self, volume: core_pb2.PersistentVolume, node: str) -> bool | None:
        """True once the helper pod has removed the directory (and is deleted itself); None while
        it runs. A failed helper is reported on the volume and raised (retried with back-off)."""
        name = volumes.helper_pod_name(volume)
        pods = self.client.pods
        try:
            pod = await pods.get(name, self.helper_namespace)
        except Exception as e:
            if not is_not_found(e):
                raise
            helper = volumes.delete_helper_pod(
                volume, node, self.helper_namespace, self.helper_image
            )
            await pods.create(helper)
            return None
        if pod.metadata.deletion_timestamp:
            return None  # a previous helper is going away
        phase = pod.status.phase
        if phase not in ("Succeeded", "Failed"):
            return None
        await pods.delete(name, self.helper_namespace, uid=pod.metadata.uid)
        if phase == "Failed":
            message = (
                f"failed to delete volume {volume.metadata.name}: helper pod {name} failed "
                f"to remove {volumes.volume_path(volume)}"
            )
            self.recorder.record(volume, WARNING, "VolumeFailedDelete", message)
            raise RuntimeError(message)
        return True
