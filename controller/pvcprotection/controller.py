"""The PVC protection controller (kubernetes pkg/controller/volume/pvcprotection): a claim being
deleted keeps its kubernetes.io/pvc-protection finalizer while a scheduled pod uses it, so that a
pod's data is not deleted under it; once no such pod is left the finalizer goes, and the claim
with it. A claim that lacks the finalizer (made before the admission plugin added it) gets it.

Whether a pod uses the claim is asked of the pod cache first and, when that says no, of the
apiserver (a live list), as Kubernetes does: the cache may not show a pod created a moment ago."""

from __future__ import annotations

import logging

from controller.framework.indexes import CLAIMS_INDEX, pod_claim_keys
from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory
from podplane.volume import constants, ephemeral, helpers

log = logging.getLogger(__name__)

FINALIZER = constants.PVC_PROTECTION_FINALIZER


def pod_uses_claim(pod: core_pb2.Pod, claim: core_pb2.PersistentVolumeClaim) -> bool:
    """podUsesPVC: a pod uses the claim once it is scheduled (the kubelet will not start a pod
    whose claim is being deleted), finished or not, until it is gone; its own ephemeral claim
    only until it has finished (the claim goes with the pod anyway)."""
    if not pod.spec.node_name:
        return False
    name = claim.metadata.name
    for v in pod.spec.volumes:
        if v.HasField("persistent_volume_claim") and v.persistent_volume_claim.claim_name == name:
            return True
        if (
            v.HasField("ephemeral")
            and pod.status.phase not in ("Succeeded", "Failed")
            and ephemeral.volume_claim_name(pod, v) == name
            and ephemeral.volume_is_for_pod(pod, claim) is None
        ):
            return True
    return False


def _finishing(pod: core_pb2.Pod) -> bool:
    """Finished, or being deleted (IsPodTerminated asks, besides, that no container runs: this
    looks at a few more pods)."""
    return pod.status.phase in ("Succeeded", "Failed") or bool(pod.metadata.deletion_timestamp)


class PVCProtectionController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = 1
    ) -> None:
        self.client = client
        self.claims: Informer[core_pb2.PersistentVolumeClaim] = informers.informer_for(
            resources.PERSISTENT_VOLUME_CLAIM
        )
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.pods.add_index(CLAIMS_INDEX, pod_claim_keys)
        self.loop = ReconcileLoop(
            "pvc-protection", self.reconcile, informers, [self.claims, self.pods], workers=workers
        )
        self.claims.add_handler(
            on_add=self._claim_changed, on_update=lambda _old, new: self._claim_changed(new)
        )
        self.pods.add_handler(
            on_add=self._pod_changed,
            on_update=self._pod_updated,
            on_delete=lambda pod: self._pod_changed(pod, deleted=True),
        )

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: keys only
    def _claim_changed(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        deleting = bool(claim.metadata.deletion_timestamp)
        if (FINALIZER in claim.metadata.finalizers) == deleting:
            self.loop.enqueue(helpers.claim_key(claim))

    def _pod_changed(self, pod: core_pb2.Pod, *, deleted: bool = False) -> None:
        """A pod went (or may have stopped using its claims): the claims being deleted it held.
        A scheduled pod that is neither finishing nor gone uses its claims as before: it cannot
        let a claim go (enqueuePVCs), and a pod without volumes has no claims."""
        if not deleted and pod.spec.node_name and not _finishing(pod):
            return
        if not pod.spec.volumes:
            return
        for key in pod_claim_keys(pod):
            claim = self.claims.get(key)
            if claim is not None and claim.metadata.deletion_timestamp:
                self.loop.enqueue(key)

    def _pod_updated(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        if old.metadata.uid != new.metadata.uid:
            self._pod_changed(old, deleted=True)  # replaced by a pod of the same name
        self._pod_changed(new)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        claim = self.claims.get(key)
        if claim is None:
            return None
        finalizers = claim.metadata.finalizers
        if claim.metadata.deletion_timestamp and FINALIZER in finalizers:
            if not await self._in_use(claim):
                await self._write_finalizers(claim, [f for f in finalizers if f != FINALIZER])
                log.info("claim %s is not used by any pod: its deletion goes ahead", key)
            else:
                log.info("keeping claim %s: a pod uses it", key)
        elif not claim.metadata.deletion_timestamp and FINALIZER not in finalizers:
            await self._write_finalizers(claim, [*finalizers, FINALIZER])
        return None

    async def _in_use(self, claim: core_pb2.PersistentVolumeClaim) -> bool:
        if any(
            pod_uses_claim(p, claim)
            for p in self.pods.by_index(CLAIMS_INDEX, helpers.claim_key(claim))
        ):
            return True
        pods, _ = await self.client.pods.list_all(claim.metadata.namespace)
        return any(pod_uses_claim(p, claim) for p in pods)

    async def _write_finalizers(
        self, claim: core_pb2.PersistentVolumeClaim, finalizers: list[str]
    ) -> None:
        updated = core_pb2.PersistentVolumeClaim()
        updated.CopyFrom(claim)
        del updated.metadata.finalizers[:]
        updated.metadata.finalizers.extend(finalizers)
        try:
            await self.client.persistentvolumeclaims.update(updated)
        except Exception as e:
            if is_not_found(e) or is_conflict(e):
                return  # gone, or changed: the next event brings it back
            raise
