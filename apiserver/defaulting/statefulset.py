"""A StatefulSet's defaults (kubernetes 1.31 pkg/apis/apps/v1 defaults.go SetDefaults_StatefulSet
and the generated defaulters of its pod template and volume claim templates), and what its
registry's PrepareForCreate and PrepareForUpdate drop (pkg/registry/apps/statefulset: the alpha
maxUnavailable, and the pod template's disabled fields as DropDisabledTemplateFields does)."""

from __future__ import annotations

from apiserver.defaulting import storage
from apiserver.defaulting.disabled_features import drop_disabled_template_fields
from apiserver.defaulting.workloads import DEFAULT_REVISION_HISTORY_LIMIT, pod_template
from podplane.api.apps.v1 import apps_pb2
from podplane.volume import constants as volume

ORDERED_READY = "OrderedReady"
ROLLING_UPDATE = "RollingUpdate"
RETAIN = "Retain"


def statefulset(obj: apps_pb2.StatefulSet) -> None:
    spec = obj.spec
    spec.pod_management_policy = spec.pod_management_policy or ORDERED_READY
    strategy = spec.update_strategy
    if not strategy.type:
        strategy.type = ROLLING_UPDATE
        # An explicit RollingUpdate without parameters keeps none; a defaulted one gets them.
        strategy.rolling_update.SetInParent()
    if strategy.type == ROLLING_UPDATE and strategy.HasField("rolling_update"):
        if not strategy.rolling_update.HasField("partition"):
            strategy.rolling_update.partition = 0
    policy = spec.persistent_volume_claim_retention_policy
    policy.when_deleted = policy.when_deleted or RETAIN
    policy.when_scaled = policy.when_scaled or RETAIN
    if not spec.HasField("replicas"):
        spec.replicas = 1
    if not spec.HasField("revision_history_limit"):
        spec.revision_history_limit = DEFAULT_REVISION_HISTORY_LIMIT
    pod_template(spec)
    for claim in spec.volume_claim_templates:
        storage.persistent_volume_claim(claim)
        # SetDefaults_PersistentVolumeClaim: a template says Pending, as `kubectl get -o yaml`
        # shows it.
        claim.status.phase = claim.status.phase or volume.CLAIM_PENDING


def _drop_max_unavailable(new: apps_pb2.StatefulSet, old: apps_pb2.StatefulSet | None) -> None:
    """maxUnavailable is alpha in 1.31 (MaxUnavailableStatefulSet, off): dropped unless the stored
    set has it already."""
    strategy = new.spec.update_strategy
    in_use = old is not None and old.spec.update_strategy.rolling_update.HasField("max_unavailable")
    # Reading an absent submessage is harmless; clearing a field of one would create it.
    if not in_use and strategy.rolling_update.HasField("max_unavailable"):
        strategy.rolling_update.ClearField("max_unavailable")


def prepare_for_create(obj: apps_pb2.StatefulSet) -> None:
    """A new set: no status; the fields of disabled features dropped (its own and its pod
    template's)."""
    obj.ClearField("status")
    _drop_max_unavailable(obj, None)
    if obj.spec.HasField("template"):
        drop_disabled_template_fields(obj.spec.template, None)


def prepare_for_update(new: apps_pb2.StatefulSet, old: apps_pb2.StatefulSet) -> None:
    """Disabled features' fields kept only where the stored set already has them."""
    _drop_max_unavailable(new, old)
    if new.spec.HasField("template"):
        old_template = old.spec.template if old.spec.HasField("template") else None
        drop_disabled_template_fields(new.spec.template, old_template)
