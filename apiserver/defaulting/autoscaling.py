"""Defaults of HorizontalPodAutoscalers (kubernetes pkg/apis/autoscaling/v2/defaults.go and
v1/defaults.go): minReplicas 1; no metrics is an 80% average CPU utilization target; a behavior
that is given gets every rule it leaves out (scale up: no stabilization, 4 pods or 100% per 15
s, the larger; scale down: 100% per 15 s, its window left unset, which means 300 s). A v1 object
is defaulted as Kubernetes reads it back: converted to v2, defaulted there, converted back."""

from __future__ import annotations

from podplane.api.autoscaling.v1 import autoscaling_pb2 as v1
from podplane.api.autoscaling.v2 import autoscaling_pb2 as v2
from podplane.apimachinery.autoscaling import conversion

SCALE_UP_STABILIZATION_SECONDS = 0
SCALE_UP_PERIOD_SECONDS = 15
SCALE_DOWN_PERIOD_SECONDS = 15
MAX_POLICY = "Max"


def scale_up_rules(given: v2.HPAScalingRules | None) -> v2.HPAScalingRules:
    """GenerateHPAScaleUpRules: the defaults with what `given` sets over them."""
    rules = v2.HPAScalingRules(
        stabilization_window_seconds=SCALE_UP_STABILIZATION_SECONDS,
        select_policy=MAX_POLICY,
        policies=[
            v2.HPAScalingPolicy(type="Pods", value=4, period_seconds=SCALE_UP_PERIOD_SECONDS),
            v2.HPAScalingPolicy(type="Percent", value=100, period_seconds=SCALE_UP_PERIOD_SECONDS),
        ],
    )
    return _over(given, rules)


def scale_down_rules(given: v2.HPAScalingRules | None) -> v2.HPAScalingRules:
    """GenerateHPAScaleDownRules: its window stays unset (the controller's 300 s)."""
    rules = v2.HPAScalingRules(
        select_policy=MAX_POLICY,
        policies=[
            v2.HPAScalingPolicy(type="Percent", value=100, period_seconds=SCALE_DOWN_PERIOD_SECONDS)
        ],
    )
    return _over(given, rules)


def _over(given: v2.HPAScalingRules | None, rules: v2.HPAScalingRules) -> v2.HPAScalingRules:
    """copyHPAScalingRules: each field `given` sets replaces the default's."""
    if given is None:
        return rules
    if given.HasField("select_policy"):
        rules.select_policy = given.select_policy
    if given.HasField("stabilization_window_seconds"):
        rules.stabilization_window_seconds = given.stabilization_window_seconds
    if given.policies:
        del rules.policies[:]
        rules.policies.extend(given.policies)
    return rules


def horizontal_pod_autoscaler(obj: v2.HorizontalPodAutoscaler) -> None:
    spec = obj.spec
    if not spec.HasField("min_replicas"):
        spec.min_replicas = 1
    if not spec.metrics:
        spec.metrics.append(conversion.cpu_utilization_metric(conversion.DEFAULT_CPU_UTILIZATION))
    if spec.HasField("behavior"):  # only a behavior that is given
        b = spec.behavior
        up = scale_up_rules(b.scale_up if b.HasField("scale_up") else None)
        down = scale_down_rules(b.scale_down if b.HasField("scale_down") else None)
        b.scale_up.CopyFrom(up)
        b.scale_down.CopyFrom(down)


def horizontal_pod_autoscaler_v1(obj: v1.HorizontalPodAutoscaler) -> None:
    if not obj.spec.HasField("min_replicas"):
        obj.spec.min_replicas = 1
    stored = conversion.to_v2(obj)
    horizontal_pod_autoscaler(stored)
    defaulted = conversion.to_v1(stored)
    defaulted.api_version, defaulted.kind = obj.api_version, obj.kind
    obj.CopyFrom(defaulted)
