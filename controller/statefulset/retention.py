"""What a StatefulSet's persistentVolumeClaimRetentionPolicy asks of its claims' ownerReferences
(kubernetes 1.31 stateful_set_utils.go claimOwnerMatchesSetAndPod,
updateClaimOwnerRefForSetAndPod): the garbage collector then deletes a claim whose owners are all
gone.

    whenScaled  whenDeleted  the claim of a pod in range   the claim of a pod scaled down
    Retain      Retain       no reference                  no reference
    Retain      Delete       the set                       the set
    Delete      Retain       no reference                  the pod
    Delete      Delete       the set                       the pod

The references are plain owners (not controllers), as Kubernetes 1.31 sets them. A claim with a
reference to an earlier set or pod of the same name (another uid) is stale: it is left alone, and
a pod is not created on it while the policy deletes claims on scale-down (the garbage collector
removes it first)."""

from __future__ import annotations

from dataclasses import dataclass

from controller.framework.objects import Object
from controller.statefulset.identity import in_ordinal_range
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources

RETAIN, DELETE = "Retain", "Delete"


@dataclass(frozen=True)
class RetentionPolicy:
    when_deleted: str = RETAIN
    when_scaled: str = RETAIN


def retention_policy(sts: apps_pb2.StatefulSet) -> RetentionPolicy:
    """The set's policy; Retain for a field it lacks."""
    if not sts.spec.HasField("persistent_volume_claim_retention_policy"):
        return RetentionPolicy()
    p = sts.spec.persistent_volume_claim_retention_policy
    return RetentionPolicy(p.when_deleted or RETAIN, p.when_scaled or RETAIN)


def has_owner_ref(target: Object, owner: Object) -> bool:
    uid = owner.metadata.uid
    return any(ref.uid == uid for ref in target.metadata.owner_references)


def has_stale_owner_ref(target: Object, owner: Object) -> bool:
    """A reference by the owner's name to another uid (an earlier object of that name; for a pod
    not created yet, any reference by its name)."""
    meta = owner.metadata
    return any(
        ref.name == meta.name and ref.uid != meta.uid for ref in target.metadata.owner_references
    )


def _wanted(sts: apps_pb2.StatefulSet, pod: core_pb2.Pod) -> tuple[bool, bool]:
    """Whether the claim should name the set, and whether the pod."""
    policy = retention_policy(sts)
    scaled_down = not in_ordinal_range(pod, sts)
    if policy.when_scaled == DELETE and policy.when_deleted == DELETE:
        return not scaled_down, scaled_down
    if policy.when_scaled == DELETE and policy.when_deleted == RETAIN:
        return False, scaled_down
    if policy.when_scaled == RETAIN and policy.when_deleted == DELETE:
        return True, False
    return False, False  # Retain/Retain, and any unknown policy


def claim_owners_match(
    claim: core_pb2.PersistentVolumeClaim, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod
) -> bool:
    """claimOwnerMatchesSetAndPod (the stale case is checked before a pod is created)."""
    set_wanted, pod_wanted = _wanted(sts, pod)
    return has_owner_ref(claim, sts) == set_wanted and has_owner_ref(claim, pod) == pod_wanted


def _owner_ref(owner: Object, api_version: str, kind: str) -> meta_pb2.OwnerReference:
    return meta_pb2.OwnerReference(
        api_version=api_version, kind=kind, name=owner.metadata.name, uid=owner.metadata.uid
    )


def _set_owner(claim: core_pb2.PersistentVolumeClaim, ref: meta_pb2.OwnerReference) -> bool:
    if any(r.uid == ref.uid for r in claim.metadata.owner_references):
        return False
    claim.metadata.owner_references.append(ref)
    return True


def _remove_owner(claim: core_pb2.PersistentVolumeClaim, owner: Object) -> bool:
    refs = claim.metadata.owner_references
    keep = [r for r in refs if r.uid != owner.metadata.uid]
    if len(keep) == len(refs):
        return False
    del refs[:]
    refs.extend(keep)
    return True


def update_claim_owners(
    claim: core_pb2.PersistentVolumeClaim, sts: apps_pb2.StatefulSet, pod: core_pb2.Pod
) -> bool:
    """updateClaimOwnerRefForSetAndPod: adds and removes the set's and the pod's references as the
    policy asks; whether the claim changed."""
    set_wanted, pod_wanted = _wanted(sts, pod)
    changed = False
    set_ref = _owner_ref(sts, resources.STATEFUL_SET.api_version, resources.STATEFUL_SET.kind)
    pod_ref = _owner_ref(pod, resources.POD.api_version, resources.POD.kind)
    changed |= _set_owner(claim, set_ref) if set_wanted else _remove_owner(claim, sts)
    changed |= _set_owner(claim, pod_ref) if pod_wanted else _remove_owner(claim, pod)
    return changed
