"""Validation of StatefulSets (kubernetes 1.31 pkg/apis/apps/validation ValidateStatefulSet,
ValidateStatefulSetUpdate, ValidateStatefulSetStatusUpdate).

As Kubernetes 1.31 does, it checks the set's own fields and leaves the pod template's spec and the
volume claim templates to the Pod's and the PersistentVolumeClaim's validation when the controller
creates them (the creation then fails with a FailedCreate event naming the field): a template is
checked only for its labels matching the selector, its labels and annotations, restartPolicy
Always and no activeDeadlineSeconds. The name is a DNS label (it becomes the pods' hostname)."""

from __future__ import annotations

import re

from apiserver.validation import fields, template
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import label_selector, nonnegative, shown
from apiserver.validation.meta import object_meta
from apiserver.validation.workloads import PERCENT_MSG
from podplane.api.apps.v1 import apps_pb2

ORDERED_READY, PARALLEL = "OrderedReady", "Parallel"
ROLLING_UPDATE, ON_DELETE = "RollingUpdate", "OnDelete"
RETAIN, DELETE = "Retain", "Delete"
NOT_REPLICAS = "cannot be greater than status.replicas"
# The fields an update may change; any other change to the spec is refused with this message.
MUTABLE_SPEC_FIELDS = (
    "replicas",
    "ordinals",
    "template",
    "update_strategy",
    "persistent_volume_claim_retention_policy",
    "min_ready_seconds",
)
FORBIDDEN_UPDATE = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)


def _pod_management_policy(policy: str) -> list[FieldError]:
    path = "spec.podManagementPolicy"
    if not policy:
        return [fields.required(path)]
    if policy not in (ORDERED_READY, PARALLEL):
        return [fields.invalid(path, policy, f"must be '{ORDERED_READY}' or '{PARALLEL}'")]
    return []


def _max_unavailable(path: str, value: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent, not 0, at most 100%."""
    if re.fullmatch(r"-?[0-9]+", value):
        number = int(value)
        errs = nonnegative(path, number)
    elif re.fullmatch(r"[0-9]+%", value):
        number = int(value[:-1])
        errs = []
        if number > 100:
            errs.append(fields.invalid(path, value, "must not be greater than 100%"))
    else:
        return [fields.invalid(path, value, PERCENT_MSG)]
    if number == 0:
        errs.append(fields.invalid(path, value, "cannot be 0"))
    return errs


def _update_strategy(strategy: apps_pb2.StatefulSetUpdateStrategy) -> list[FieldError]:
    path = "spec.updateStrategy"
    rolling = strategy.rolling_update
    if not strategy.type:
        return [fields.required(path)]
    if strategy.type == ON_DELETE:
        if strategy.HasField("rolling_update"):
            return [
                fields.invalid(
                    f"{path}.rollingUpdate",
                    shown(rolling),
                    f"only allowed for updateStrategy '{ROLLING_UPDATE}'",
                )
            ]
        return []
    if strategy.type == ROLLING_UPDATE:
        if not strategy.HasField("rolling_update"):
            return []
        errs = nonnegative(f"{path}.rollingUpdate.partition", rolling.partition)
        if rolling.HasField("max_unavailable"):
            errs += _max_unavailable(
                f"{path}.rollingUpdate.maxUnavailable", rolling.max_unavailable
            )
        return errs
    return [fields.invalid(path, shown(strategy), f"must be '{ROLLING_UPDATE}' or '{ON_DELETE}'")]


def _retention_policy(spec: apps_pb2.StatefulSetSpec) -> list[FieldError]:
    if not spec.HasField("persistent_volume_claim_retention_policy"):
        return []
    path = "spec.persistentVolumeClaimRetentionPolicy"
    policy = spec.persistent_volume_claim_retention_policy
    errs: list[FieldError] = []
    for name, value in (("whenDeleted", policy.when_deleted), ("whenScaled", policy.when_scaled)):
        if value not in (RETAIN, DELETE):
            errs.append(fields.unsupported(f"{path}.{name}", value, (RETAIN, DELETE)))
    return errs


def _selector_and_template(spec: apps_pb2.StatefulSetSpec) -> list[FieldError]:
    """The selector (required, valid, not empty) and the template it must select. A missing
    selector selects nothing, so the template's labels are reported too, as Kubernetes does."""
    errs: list[FieldError] = []
    matches: bool | None
    if not spec.HasField("selector"):
        errs.append(fields.required("spec.selector"))
        matches = False
    else:
        selector = spec.selector
        errs += label_selector("spec.selector", selector)
        if not selector.match_labels and not selector.match_expressions:
            errs.append(
                fields.invalid(
                    "spec.selector", shown(selector), "empty selector is invalid for statefulset"
                )
            )
        matches = template.selector_matches(selector, spec.template.metadata.labels)
        if matches is None:
            errs.append(fields.invalid("spec.selector", shown(selector), ""))
            return errs + _template_rules(spec)
    errs += template.template_labels_selected("spec.template", spec.template, matches)
    meta = spec.template.metadata
    errs += fields.label_map("spec.template.labels", meta.labels)
    errs += fields.annotation_map("spec.template.annotations", meta.annotations)
    return errs + _template_rules(spec)


def _template_rules(spec: apps_pb2.StatefulSetSpec) -> list[FieldError]:
    pod = spec.template.spec
    errs = template.restart_policy("spec.template", spec.template, ("Always",))
    if pod.HasField("active_deadline_seconds"):
        errs.append(
            fields.forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in StatefulSet is not Supported",
            )
        )
    return errs


def statefulset_spec(spec: apps_pb2.StatefulSetSpec) -> list[FieldError]:
    """ValidateStatefulSetSpec, in Kubernetes' order."""
    errs = _pod_management_policy(spec.pod_management_policy)
    errs += _update_strategy(spec.update_strategy)
    errs += _retention_policy(spec)
    errs += nonnegative("spec.replicas", spec.replicas)
    errs += nonnegative("spec.minReadySeconds", spec.min_ready_seconds)
    if spec.HasField("ordinals"):
        errs += nonnegative("spec.ordinals.start", spec.ordinals.start)
    return errs + _selector_and_template(spec)


def statefulset(obj: apps_pb2.StatefulSet) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True, name_rule=fields.dns1123_label)
    return errs + statefulset_spec(obj.spec)


def _no_name_rule(path: str, name: str) -> list[FieldError]:
    return []


def _fixed_part(spec: apps_pb2.StatefulSetSpec) -> apps_pb2.StatefulSetSpec:
    fixed = apps_pb2.StatefulSetSpec()
    fixed.CopyFrom(spec)
    for name in MUTABLE_SPEC_FIELDS:
        fixed.ClearField(name)
    return fixed


def statefulset_update(new: apps_pb2.StatefulSet, old: apps_pb2.StatefulSet) -> list[FieldError]:
    """ValidateStatefulSetUpdate (the name, which cannot change, is not checked again: sets named
    before names had to be DNS labels can still be updated) and, as a status update meets the
    same rules here, the status and its collision count."""
    errs = object_meta(new.metadata, namespaced=True, name_rule=_no_name_rule)
    errs += statefulset_spec(new.spec)
    if _fixed_part(new.spec) != _fixed_part(old.spec):
        errs.append(fields.forbidden("spec", FORBIDDEN_UPDATE))
    return errs + statefulset_status(new.status, old.status)


def statefulset_status(
    status: apps_pb2.StatefulSetStatus, old: apps_pb2.StatefulSetStatus
) -> list[FieldError]:
    """ValidateStatefulSetStatus and the collision count that never goes down."""
    errs: list[FieldError] = []
    for path, value in (
        ("status.replicas", status.replicas),
        ("status.readyReplicas", status.ready_replicas),
        ("status.currentReplicas", status.current_replicas),
        ("status.updatedReplicas", status.updated_replicas),
        ("status.availableReplicas", status.available_replicas),
        ("status.observedGeneration", status.observed_generation),
    ):
        errs += nonnegative(path, value)
    if status.HasField("collision_count"):
        errs += nonnegative("status.collisionCount", status.collision_count)
    for path, value in (
        ("status.readyReplicas", status.ready_replicas),
        ("status.currentReplicas", status.current_replicas),
        ("status.updatedReplicas", status.updated_replicas),
        ("status.availableReplicas", status.available_replicas),
    ):
        if value > status.replicas:
            errs.append(fields.invalid(path, value, NOT_REPLICAS))
    if status.available_replicas > status.ready_replicas:
        errs.append(
            fields.invalid(
                "status.availableReplicas",
                status.available_replicas,
                "cannot be greater than status.readyReplicas",
            )
        )
    if old.HasField("collision_count") and (
        not status.HasField("collision_count") or status.collision_count < old.collision_count
    ):
        errs.append(
            fields.invalid("status.collisionCount", status.collision_count, "cannot be decremented")
        )
    return errs
