"""A Deployment's revisions and the ReplicaSet of each template (kubernetes pkg/controller/
deployment/util/deployment_util.go, controller_utils.go ComputeHash): the pod-template hash that
names each ReplicaSet, which one carries the Deployment's current template, and the revision
annotations (only ever raised; the replaced ones kept in revision-history)."""

from __future__ import annotations

from collections.abc import Iterable

from controller.deployment.rollout import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    by_creation,
    set_replicas_annotations,
)
from controller.framework.hashing import fnv32a, safe_encode, template_hash
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2

# The hash (ComputeHash) is controller.framework.hashing's, shared with the DaemonSet controller.
__all__ = ["fnv32a", "safe_encode", "template_hash"]

POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
# Deployment annotations not copied to its ReplicaSets (skipCopyAnnotation).
NOT_COPIED = frozenset(
    {
        LAST_APPLIED_ANNOTATION,
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        MAX_REPLICAS_ANNOTATION,
        "deprecated.deployment.rollback.to",
    }
)


def revision(obj: apps_pb2.ReplicaSet) -> int:
    try:
        return int(obj.metadata.annotations.get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def max_revision(rss: Iterable[apps_pb2.ReplicaSet]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def by_revision(rss: Iterable[apps_pb2.ReplicaSet]) -> list[apps_pb2.ReplicaSet]:
    return sorted(by_creation(rss), key=revision)


def without_hash(template: core_pb2.PodTemplateSpec) -> core_pb2.PodTemplateSpec:
    copy = core_pb2.PodTemplateSpec()
    copy.CopyFrom(template)
    copy.metadata.labels.pop(POD_TEMPLATE_HASH_LABEL, None)
    return copy


def equal_ignore_hash(a: core_pb2.PodTemplateSpec, b: core_pb2.PodTemplateSpec) -> bool:
    return bool(without_hash(a) == without_hash(b))


def find_new_rs(
    d: apps_pb2.Deployment, rss: Iterable[apps_pb2.ReplicaSet]
) -> apps_pb2.ReplicaSet | None:
    """The oldest replica set whose template is the deployment's (FindNewReplicaSet)."""
    for rs in by_creation(rss):
        if equal_ignore_hash(rs.spec.template, d.spec.template):
            return rs
    return None


def copy_annotations_to_rs(d: apps_pb2.Deployment, rs: apps_pb2.ReplicaSet) -> bool:
    """The deployment's annotations (kubernetes.io/change-cause, ...) onto its replica set, but
    for the ones that describe the deployment itself."""
    changed = False
    for key, value in d.metadata.annotations.items():
        if key in NOT_COPIED or rs.metadata.annotations.get(key) == value:
            continue
        rs.metadata.annotations[key] = value
        changed = True
    return changed


_MAX_REVISION_HISTORY_CHARS = 2000


def set_new_rs_annotations(
    d: apps_pb2.Deployment, rs: apps_pb2.ReplicaSet, new_revision: int, exists: bool
) -> bool:
    """SetNewReplicaSetAnnotations: the deployment's annotations, the revision (only ever
    raised; the one it replaces goes to revision-history, as when a rollback revives an old
    replica set), and for a replica set about to be created the replicas annotations."""
    changed = copy_annotations_to_rs(d, rs)
    annotations = rs.metadata.annotations
    old = annotations.get(REVISION_ANNOTATION)
    try:
        old_revision = int(old) if old else 0
    except ValueError:
        return changed
    if old_revision < new_revision:
        annotations[REVISION_ANNOTATION] = str(new_revision)
        changed = True
        if old:
            history = [r for r in annotations.get(REVISION_HISTORY_ANNOTATION, "").split(",") if r]
            history.append(old)
            while len(",".join(history)) > _MAX_REVISION_HISTORY_CHARS and len(history) > 1:
                history.pop(0)
            annotations[REVISION_HISTORY_ANNOTATION] = ",".join(history)
    if not exists and set_replicas_annotations(rs, d):
        changed = True
    return changed


def set_deployment_revision(d: apps_pb2.Deployment, rev: str) -> bool:
    if d.metadata.annotations.get(REVISION_ANNOTATION) == rev:
        return False
    d.metadata.annotations[REVISION_ANNOTATION] = rev
    return True
