"""Validation of HorizontalPodAutoscalers (kubernetes pkg/apis/autoscaling/validation): a scale
target named by kind and name, minReplicas at least 1, maxReplicas at least 1 and minReplicas,
valid metrics (autoscaling_metrics.py) and behavior (policies and windows in range), and
non-negative replica counts in the status. Both served versions are validated as autoscaling/v2,
Kubernetes' internal type's shape, so their errors name v2's fields."""

from __future__ import annotations

from apiserver.validation import fields
from apiserver.validation.autoscaling_metrics import cross_version_object_reference, metrics
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import nonnegative
from apiserver.validation.meta import object_meta
from podplane.api.autoscaling.v2 import autoscaling_pb2 as v2

MAX_PERIOD_SECONDS = 1800
MAX_STABILIZATION_WINDOW_SECONDS = 3600
SELECT_POLICIES = ("Disabled", "Max", "Min")
POLICY_TYPES = ("Percent", "Pods")


def _scaling_policy(path: str, p: v2.HPAScalingPolicy) -> list[FieldError]:
    errs: list[FieldError] = []
    if p.type not in POLICY_TYPES:
        errs.append(fields.unsupported(f"{path}.type", p.type, POLICY_TYPES))
    if p.value <= 0:
        errs.append(fields.invalid(f"{path}.value", p.value, "must be greater than zero"))
    if p.period_seconds <= 0:
        errs.append(
            fields.invalid(f"{path}.periodSeconds", p.period_seconds, "must be greater than zero")
        )
    if p.period_seconds > MAX_PERIOD_SECONDS:
        detail = f"must be less than or equal to {MAX_PERIOD_SECONDS}"
        errs.append(fields.invalid(f"{path}.periodSeconds", p.period_seconds, detail))
    return errs


def _scaling_rules(path: str, r: v2.HPAScalingRules) -> list[FieldError]:
    errs: list[FieldError] = []
    if r.HasField("stabilization_window_seconds"):
        window = r.stabilization_window_seconds
        if window < 0:
            detail = "must be greater than or equal to zero"
            errs.append(fields.invalid(f"{path}.stabilizationWindowSeconds", window, detail))
        if window > MAX_STABILIZATION_WINDOW_SECONDS:
            detail = f"must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}"
            errs.append(fields.invalid(f"{path}.stabilizationWindowSeconds", window, detail))
    if r.HasField("select_policy") and r.select_policy not in SELECT_POLICIES:
        errs.append(fields.unsupported(f"{path}.selectPolicy", r.select_policy, SELECT_POLICIES))
    if not r.policies:
        errs.append(fields.required(f"{path}.policies", "must specify at least one Policy"))
    for i, p in enumerate(r.policies):
        errs += _scaling_policy(f"{path}.policies[{i}]", p)
    return errs


def behavior(path: str, b: v2.HorizontalPodAutoscalerBehavior) -> list[FieldError]:
    errs: list[FieldError] = []
    if b.HasField("scale_up"):
        errs += _scaling_rules(f"{path}.scaleUp", b.scale_up)
    if b.HasField("scale_down"):
        errs += _scaling_rules(f"{path}.scaleDown", b.scale_down)
    return errs


def spec(s: v2.HorizontalPodAutoscalerSpec, min_replicas_lower_bound: int = 1) -> list[FieldError]:
    errs: list[FieldError] = []
    min_replicas = s.min_replicas if s.HasField("min_replicas") else None
    if min_replicas is not None and min_replicas < min_replicas_lower_bound:
        detail = f"must be greater than or equal to {min_replicas_lower_bound}"
        errs.append(fields.invalid("spec.minReplicas", min_replicas, detail))
    if s.max_replicas < 1:
        errs.append(fields.invalid("spec.maxReplicas", s.max_replicas, "must be greater than 0"))
    if min_replicas is not None and s.max_replicas < min_replicas:
        detail = "must be greater than or equal to `minReplicas`"
        errs.append(fields.invalid("spec.maxReplicas", s.max_replicas, detail))
    errs += cross_version_object_reference("spec.scaleTargetRef", s.scale_target_ref)
    errs += metrics("spec.metrics", list(s.metrics), min_replicas)
    if s.HasField("behavior"):
        errs += behavior("spec.behavior", s.behavior)
    return errs


def horizontal_pod_autoscaler(obj: v2.HorizontalPodAutoscaler) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=True) + spec(obj.spec)


def horizontal_pod_autoscaler_update(
    new: v2.HorizontalPodAutoscaler, old: v2.HorizontalPodAutoscaler
) -> list[FieldError]:
    # An autoscaler already at minReplicas 0 (from when HPAScaleToZero was on) may stay there.
    bound = 0 if old.spec.HasField("min_replicas") and old.spec.min_replicas == 0 else 1
    return object_meta(new.metadata, namespaced=True) + spec(new.spec, bound)


def horizontal_pod_autoscaler_status_update(
    new: v2.HorizontalPodAutoscaler, old: v2.HorizontalPodAutoscaler
) -> list[FieldError]:
    return (
        object_meta(new.metadata, namespaced=True)
        + nonnegative("status.currentReplicas", new.status.current_replicas)
        + nonnegative("status.desiredReplicas", new.status.desired_replicas)
    )
