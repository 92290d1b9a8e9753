"""A StatefulSet pod's identity (kubernetes pkg/controller/statefulset/stateful_set_utils.go): its
name <set>-<ordinal> within [ordinals.start, ordinals.start + replicas), its hostname and
subdomain (the governing Service), the labels that name it and its index, the claims
<template>-<set>-<ordinal> its volumes use, the revision it was made from, and the pod a set makes
for an ordinal."""

from __future__ import annotations

import re

from controller.framework.controller_ref import new_controller_ref
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources

# apps/v1 StatefulSetPodNameLabel, PodIndexLabel and StatefulSetRevisionLabel.
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
_STATEFUL_POD = re.compile(r"^(.*)-([0-9]+)$")
_MAX_INT32 = 2**31 - 1


def parent_and_ordinal(pod: core_pb2.Pod) -> tuple[str, int]:
    """getParentNameAndOrdinal: the set's name and the ordinal from the pod's name; ("", -1) for
    a name of another form, and an ordinal of -1 when it does not fit an int32."""
    m = _STATEFUL_POD.match(pod.metadata.name)
    if m is None:
        return "", -1
    ordinal = int(m.group(2))
    return m.group(1), ordinal if ordinal <= _MAX_INT32 else -1


def ordinal_of(pod: core_pb2.Pod) -> int:
    return parent_and_ordinal(pod)[1]


def start_ordinal(sts: apps_pb2.StatefulSet) -> int:
    return sts.spec.ordinals.start if sts.spec.HasField("ordinals") else 0


def end_ordinal(sts: apps_pb2.StatefulSet) -> int:
    """The last ordinal of the set's replicas (inclusive)."""
    return start_ordinal(sts) + sts.spec.replicas - 1


def in_ordinal_range(pod: core_pb2.Pod, sts: apps_pb2.StatefulSet) -> bool:
    return start_ordinal(sts) <= ordinal_of(pod) <= end_ordinal(sts)


def pod_name(sts: apps_pb2.StatefulSet, ordinal: int) -> str:
    return f"{sts.metadata.name}-{ordinal}"


def claim_name(
    sts: apps_pb2.StatefulSet, template: core_pb2.PersistentVolumeClaim, ordinal: int
) -> str:
    return f"{template.metadata.name}-{sts.metadata.name}-{ordinal}"


def is_member_of(sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> bool:
    return parent_and_ordinal(pod)[0] == sts.metadata.name


def identity_matches(sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> bool:
    parent, ordinal = parent_and_ordinal(pod)
    meta = pod.metadata
    return (
        ordinal >= 0
        and parent == sts.metadata.name
        and meta.name == pod_name(sts, ordinal)
        and meta.namespace == sts.metadata.namespace
        and meta.labels.get(POD_NAME_LABEL) == meta.name
    )


def storage_matches(sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> bool:
    """The pod's volumes use the claims of its ordinal, one per claim template."""
    ordinal = ordinal_of(pod)
    if ordinal < 0:
        return False
    volumes = {v.name: v for v in pod.spec.volumes}
    for template in sts.spec.volume_claim_templates:
        volume = volumes.get(template.metadata.name)
        if (
            volume is None
            or not volume.HasField("persistent_volume_claim")
            or volume.persistent_volume_claim.claim_name != claim_name(sts, template, ordinal)
        ):
            return False
    return True


def claims_for(sts: apps_pb2.StatefulSet, ordinal: int) -> list[core_pb2.PersistentVolumeClaim]:
    """getPersistentVolumeClaims: the claims of an ordinal, from the templates, in their order,
    labelled with the templates' labels and the selector's matchLabels."""
    claims = []
    for template in sts.spec.volume_claim_templates:
        claim = core_pb2.PersistentVolumeClaim()
        claim.CopyFrom(template)
        claim.metadata.name = claim_name(sts, template, ordinal)
        claim.metadata.namespace = sts.metadata.namespace
        claim.metadata.labels.update(sts.spec.selector.match_labels)
        claims.append(claim)
    return claims


def update_storage(sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> None:
    """The pod's volumes: one per claim template, on that template's claim, replacing a volume of
    the same name; then the pod's other volumes."""
    ordinal = ordinal_of(pod)
    names = {t.metadata.name for t in sts.spec.volume_claim_templates}
    volumes = [
        core_pb2.Volume(
            name=template.metadata.name,
            persistent_volume_claim=core_pb2.PersistentVolumeClaimVolumeSource(
                claim_name=claim_name(sts, template, ordinal)
            ),
        )
        for template in sts.spec.volume_claim_templates
    ]
    volumes += [v for v in pod.spec.volumes if v.name not in names]
    del pod.spec.volumes[:]
    pod.spec.volumes.extend(volumes)


def update_identity(sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> None:
    """The pod's name, namespace and the labels naming it and its index."""
    ordinal = ordinal_of(pod)
    meta = pod.metadata
    meta.name = pod_name(sts, ordinal)
    meta.namespace = sts.metadata.namespace
    meta.labels[POD_NAME_LABEL] = meta.name
    meta.labels[POD_INDEX_LABEL] = str(ordinal)


def pod_revision(pod: core_pb2.Pod) -> str:
    return pod.metadata.labels.get(REVISION_LABEL, "")


def new_pod(sts: apps_pb2.StatefulSet, ordinal: int) -> core_pb2.Pod:
    """newStatefulSetPod: the template's pod (GetPodFromTemplate: its labels, annotations and
    finalizers, generateName <set>-, controlled by the set) named for the ordinal, with hostname
    and subdomain (set only at creation: they are immutable) and its claims' volumes."""
    template = sts.spec.template
    pod = core_pb2.Pod()
    meta = pod.metadata
    meta.generate_name = f"{sts.metadata.name}-"
    meta.labels.update(template.metadata.labels)
    meta.annotations.update(template.metadata.annotations)
    meta.finalizers.extend(template.metadata.finalizers)
    meta.owner_references.append(new_controller_ref(sts, resources.STATEFUL_SET))
    pod.spec.CopyFrom(template.spec)
    meta.name = pod_name(sts, ordinal)
    update_identity(sts, pod)
    pod.spec.hostname = meta.name
    pod.spec.subdomain = sts.spec.service_name
    update_storage(sts, pod)
    return pod


def versioned_pod(
    current_set: apps_pb2.StatefulSet,
    update_set: apps_pb2.StatefulSet,
    current_revision: str,
    update_revision: str,
    ordinal: int,
) -> core_pb2.Pod:
    """newVersionedStatefulSetPod: below the partition (or, for a RollingUpdate without
    parameters, below the current replicas) a pod of the current revision; otherwise of the update
    revision."""
    strategy = current_set.spec.update_strategy
    start = start_ordinal(current_set)
    if (
        strategy.type == "RollingUpdate"
        and not strategy.HasField("rolling_update")
        and ordinal < start + current_set.status.current_replicas
    ) or (
        strategy.HasField("rolling_update") and ordinal < start + strategy.rolling_update.partition
    ):
        pod = new_pod(current_set, ordinal)
        pod.metadata.labels[REVISION_LABEL] = current_revision
        return pod
    pod = new_pod(update_set, ordinal)
    pod.metadata.labels[REVISION_LABEL] = update_revision
    return pod
