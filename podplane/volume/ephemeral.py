"""Generic ephemeral volumes (component-helpers/storage/ephemeral): a pod's `ephemeral` volume
is the claim `<pod name>-<volume name>`, which the ephemeral volume controller creates from the
volume's claim template, owned (controller) by the pod. A claim of that name that the pod does not
own is never used for it. The kubelet, the scheduler's VolumeBinding, the node authorizer and the
claim protection controller all find a pod's claims through pod_claim_names."""

from __future__ import annotations

from collections.abc import Iterator

from podplane.api.core.v1 import core_pb2


def volume_claim_name(pod: core_pb2.Pod, volume: core_pb2.Volume) -> str:
    """VolumeClaimName."""
    return f"{pod.metadata.name}-{volume.name}"


def claim_name(pod: core_pb2.Pod, volume: core_pb2.Volume) -> str | None:
    """The claim behind a persistentVolumeClaim or ephemeral volume; None for other volumes."""
    if volume.HasField("persistent_volume_claim"):
        return volume.persistent_volume_claim.claim_name
    if volume.HasField("ephemeral"):
        return volume_claim_name(pod, volume)
    return None


def pod_claim_names(pod: core_pb2.Pod) -> Iterator[str]:
    """Every claim the pod's volumes use, persistent and ephemeral, in volume order."""
    for volume in pod.spec.volumes:
        name = claim_name(pod, volume)
        if name is not None:
            yield name


def volume_is_for_pod(pod: core_pb2.Pod, claim: core_pb2.PersistentVolumeClaim) -> str | None:
    """VolumeIsForPod: None when the pod owns (controls) the claim, else why not."""
    for ref in claim.metadata.owner_references:
        if ref.controller and ref.uid == pod.metadata.uid:
            return None
    return (
        f"PVC {claim.metadata.namespace}/{claim.metadata.name} was not created for pod "
        f"{pod.metadata.namespace}/{pod.metadata.name} (pod is not owner)"
    )
