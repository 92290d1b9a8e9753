"""An HPA's scaling behavior as the controller reads it (autoscaling/v2 HPAScalingRules), with
the API's defaults filled in as Kubernetes' GenerateHPAScaleUpRules and GenerateHPAScaleDownRules
fill them (pkg/apis/autoscaling/v2/defaults.go): scale up by 4 pods or 100 % every 15 s, whichever
is more, at once; scale down by 100 % every 15 s after the controller's downscale stabilization
window (left None here: the controller's flag sets it)."""

from __future__ import annotations

from dataclasses import dataclass

PODS = "Pods"
PERCENT = "Percent"
MAX = "Max"
MIN = "Min"
DISABLED = "Disabled"


@dataclass(frozen=True)
class ScalingPolicy:
    type: str  # PODS or PERCENT
    value: int
    period_seconds: int


@dataclass(frozen=True)
class ScalingRules:
    stabilization_window_seconds: int | None = None
    select_policy: str | None = None  # MAX, MIN or DISABLED
    policies: tuple[ScalingPolicy, ...] | None = None


@dataclass(frozen=True)
class Behavior:
    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None


DEFAULT_SCALE_UP = ScalingRules(
    stabilization_window_seconds=0,
    select_policy=MAX,
    policies=(ScalingPolicy(PODS, 4, 15), ScalingPolicy(PERCENT, 100, 15)),
)
DEFAULT_SCALE_DOWN = ScalingRules(
    stabilization_window_seconds=None,
    select_policy=MAX,
    policies=(ScalingPolicy(PERCENT, 100, 15),),
)


def _fill(rules: ScalingRules | None, defaults: ScalingRules) -> ScalingRules:
    """copyHPAScalingRules: the fields `rules` sets, over the defaults."""
    if rules is None:
        return defaults
    window, select, policies = (
        rules.stabilization_window_seconds,
        rules.select_policy,
        rules.policies,
    )
    return ScalingRules(
        defaults.stabilization_window_seconds if window is None else window,
        defaults.select_policy if select is None else select,
        defaults.policies if policies is None else policies,
    )


def scale_up_rules(rules: ScalingRules | None) -> ScalingRules:
    return _fill(rules, DEFAULT_SCALE_UP)


def scale_down_rules(rules: ScalingRules | None) -> ScalingRules:
    return _fill(rules, DEFAULT_SCALE_DOWN)


def longest_policy_period(rules: ScalingRules) -> int:
    return max((p.period_seconds for p in rules.policies or ()), default=0)
