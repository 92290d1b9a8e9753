"""The ephemeral volume controller (kubernetes pkg/controller/volume/ephemeral): for each
`ephemeral` volume of a pod, the claim `<pod>-<volume>` made from the volume's
volumeClaimTemplate (its labels, annotations and spec), owned by the pod (controller,
blockOwnerDeletion), so that it goes with the pod (the garbage collector). The claim is then bound
like any other: the scheduler's VolumeBinding waits for it and the local-path provisioner makes
its volume on the pod's node. A claim of that name the pod does not own is left alone, and the pod
is told (FailedBinding): the kubelet and the scheduler refuse to use it. A claim deleted while its
pod still wants it is made again."""

from __future__ import annotations

import logging

from controller.framework.controller_ref import new_controller_ref
from controller.framework.indexes import CLAIMS_INDEX, pod_claim_keys
from controller.framework.reconciler import ReconcileLoop
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_already_exists
from podplane.client.events import WARNING, EventRecorder
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory
from podplane.volume import ephemeral

log = logging.getLogger(__name__)


def has_ephemeral_volumes(pod: core_pb2.Pod) -> bool:
    for volume in pod.spec.volumes:
        if volume.HasField("ephemeral"):
            return True
    return False


def claim_for(pod: core_pb2.Pod, volume: core_pb2.Volume) -> core_pb2.PersistentVolumeClaim:
    """The claim of an ephemeral volume, as its template says, owned by the pod."""
    template = volume.ephemeral.volume_claim_template
    claim = core_pb2.PersistentVolumeClaim(
        metadata=meta_pb2.ObjectMeta(
            name=ephemeral.volume_claim_name(pod, volume),
            namespace=pod.metadata.namespace,
            labels=dict(template.metadata.labels),
            annotations=dict(template.metadata.annotations),
            owner_references=[new_controller_ref(pod, resources.POD)],
        )
    )
    claim.spec.CopyFrom(template.spec)
    return claim


class EphemeralVolumeController:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = 1
    ) -> None:
        self.client = client
        self.recorder = EventRecorder(client, "ephemeral_volume")
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.claims: Informer[core_pb2.PersistentVolumeClaim] = informers.informer_for(
            resources.PERSISTENT_VOLUME_CLAIM
        )
        self.pods.add_index(CLAIMS_INDEX, pod_claim_keys)
        self.loop = ReconcileLoop(
            "ephemeral-volume", self.reconcile, informers, [self.pods, self.claims], workers=workers
        )
        self.pods.add_handler(on_add=self._pod, on_update=lambda _old, new: self._pod(new))
        self.claims.add_handler(on_delete=self._claim_deleted)

    async def run(self) -> None:
        await self.loop.run()

    def _pod(self, pod: core_pb2.Pod) -> None:
        if not pod.metadata.deletion_timestamp and has_ephemeral_volumes(pod):
            self.loop.enqueue(f"{pod.metadata.namespace}/{pod.metadata.name}")

    def _claim_deleted(self, claim: core_pb2.PersistentVolumeClaim) -> None:
        """A pod that still wants the claim gets a new one."""
        key = f"{claim.metadata.namespace}/{claim.metadata.name}"
        for pod in self.pods.by_index(CLAIMS_INDEX, key):
            self._pod(pod)

    async def reconcile(self, key: str) -> float | None:
        pod = self.pods.get(key)
        if pod is None or pod.metadata.deletion_timestamp:
            return None
        for volume in pod.spec.volumes:
            if not volume.HasField("ephemeral"):
                continue
            try:
                await self._ensure_claim(pod, volume)
            except Exception as e:
                message = e.details() if hasattr(e, "details") else str(e)
                self.recorder.record(
                    pod, WARNING, "FailedBinding", f"ephemeral volume {volume.name}: {message}"
                )
                raise
        return None

    async def _ensure_claim(self, pod: core_pb2.Pod, volume: core_pb2.Volume) -> None:
        name = ephemeral.volume_claim_name(pod, volume)
        existing = self.claims.get(f"{pod.metadata.namespace}/{name}")
        if existing is not None:
            not_for_pod = ephemeral.volume_is_for_pod(pod, existing)
            if not_for_pod is not None:
                raise ValueError(not_for_pod)
            return  # made already
        try:
            await self.client.persistentvolumeclaims.create(claim_for(pod, volume))
        except Exception as e:
            if is_already_exists(e):
                return  # the informer has not seen it yet; the next sync checks its owner
            raise
        log.info(
            "pod %s: created claim %s for its ephemeral volume %s",
            pod.metadata.name,
            name,
            volume.name,
        )
