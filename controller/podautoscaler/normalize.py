"""From the replica count the metrics ask for to the one the controller sets (kubernetes
horizontal.go normalizeDesiredReplicas and normalizeDesiredReplicasWithBehaviors): the
stabilization window over recent recommendations, then the limits (minReplicas, maxReplicas, and
the scale-up limit: without a behavior max(2 * current, 4); with one, its policies over the scale
events of their periods), each step saying so in the AbleToScale and ScalingLimited conditions
with Kubernetes' reasons and messages."""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.podautoscaler.history import (
    Recommendation,
    ScaleEvent,
    ScalingHistory,
    replicas_change_per_period,
)
from controller.podautoscaler.rules import (
    DISABLED,
    MIN,
    PERCENT,
    PODS,
    Behavior,
    ScalingRules,
    scale_down_rules,
    scale_up_rules,
)

ABLE_TO_SCALE = "AbleToScale"
SCALING_ACTIVE = "ScalingActive"
SCALING_LIMITED = "ScalingLimited"

SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0
INT32_MAX, INT32_MIN = 2**31 - 1, -(2**31)

READY_FOR_NEW_SCALE = ("ReadyForNewScale", "recommended size matches current size")
SCALE_DOWN_STABILIZED = (
    "ScaleDownStabilized",
    "recent recommendations were higher than current one, applying the highest recent "
    "recommendation",
)
SCALE_UP_STABILIZED = (
    "ScaleUpStabilized",
    "recent recommendations were lower than current one, applying the lowest recent recommendation",
)
SCALE_UP_LIMIT = (
    "ScaleUpLimit",
    "the desired replica count is increasing faster than the maximum scale rate",
)
SCALE_DOWN_LIMIT = (
    "ScaleDownLimit",
    "the desired replica count is decreasing faster than the maximum scale rate",
)
TOO_MANY_REPLICAS = (
    "TooManyReplicas",
    "the desired replica count is more than the maximum replica count",
)
TOO_FEW_REPLICAS = (
    "TooFewReplicas",
    "the desired replica count is less than the minimum replica count",
)
DESIRED_WITHIN_RANGE = ("DesiredWithinRange", "the desired count is within the acceptable range")


@dataclass(frozen=True)
class Condition:
    """A condition the controller sets on the autoscaler's status."""

    type: str
    status: str
    reason: str
    message: str


@dataclass(frozen=True)
class Normalized:
    replicas: int
    conditions: tuple[Condition, ...]


def _limited(desired: int, stabilized: int, reason: tuple[str, str]) -> Condition:
    status = "False" if desired == stabilized else "True"
    return Condition(SCALING_LIMITED, status, *reason)


# ---------------------------------------------------------------- without a behavior
def stabilize_recommendation(
    recommendations: list[Recommendation], desired: int, window: float, now: float
) -> int:
    """stabilizeRecommendation: the highest recommendation of the window, this one included,
    which replaces the last expired one (or is added)."""
    highest, old = desired, None
    cutoff = now - window
    for i, rec in enumerate(recommendations):
        if rec.timestamp < cutoff:
            old = i
        elif rec.replicas > highest:
            highest = rec.replicas
    if old is None:
        recommendations.append(Recommendation(desired, now))
    else:
        recommendations[old] = Recommendation(desired, now)
    return highest


def scale_up_limit(current_replicas: int) -> int:
    """calculateScaleUpLimit: at most doubling, to no fewer than 4."""
    return int(max(SCALE_UP_LIMIT_FACTOR * current_replicas, SCALE_UP_LIMIT_MINIMUM))


def convert_desired_replicas_with_rules(
    current: int, desired: int, min_replicas: int, max_replicas: int
) -> tuple[int, tuple[str, str]]:
    """convertDesiredReplicasWithRules: the replicas within the limits, and why limited."""
    limit = scale_up_limit(current)
    if max_replicas > limit:
        maximum, reason = limit, SCALE_UP_LIMIT
    else:
        maximum, reason = max_replicas, TOO_MANY_REPLICAS
    if desired < min_replicas:
        return min_replicas, TOO_FEW_REPLICAS
    if desired > maximum:
        return maximum, reason
    return desired, DESIRED_WITHIN_RANGE


def normalize_desired_replicas(
    history: ScalingHistory,
    key: str,
    current: int,
    prenormalized: int,
    min_replicas: int,
    max_replicas: int,
    downscale_window: float,
    now: float,
) -> Normalized:
    stabilized = stabilize_recommendation(
        history.recommendations.setdefault(key, []), prenormalized, downscale_window, now
    )
    able = SCALE_DOWN_STABILIZED if stabilized != prenormalized else READY_FOR_NEW_SCALE
    desired, reason = convert_desired_replicas_with_rules(
        current, stabilized, min_replicas, max_replicas
    )
    return Normalized(
        desired,
        (Condition(ABLE_TO_SCALE, "True", *able), _limited(desired, stabilized, reason)),
    )


# ---------------------------------------------------------------- with a behavior
def stabilize_with_behaviors(
    recommendations: list[Recommendation],
    desired: int,
    current: int,
    up_window: int,
    down_window: int,
    now: float,
) -> tuple[int, tuple[str, str]]:
    """stabilizeRecommendationWithBehaviors: between the lowest recommendation of the scale-up
    window and the highest of the scale-down window, as near the current size as they allow;
    this recommendation replaces the last one expired for both windows (or is added)."""
    up, down, old = desired, desired, None
    up_cutoff, down_cutoff = now - up_window, now - down_window
    for i, rec in enumerate(recommendations):
        if rec.timestamp > up_cutoff:
            up = min(rec.replicas, up)
        if rec.timestamp > down_cutoff:
            down = max(rec.replicas, down)
        if rec.timestamp < up_cutoff and rec.timestamp < down_cutoff:
            old = i
    recommendation = min(max(current, up), down)
    if old is None:
        recommendations.append(Recommendation(desired, now))
    else:
        recommendations[old] = Recommendation(desired, now)
    reason = SCALE_UP_STABILIZED if desired >= current else SCALE_DOWN_STABILIZED
    return recommendation, reason


def _period_start(
    current: int, policy_period: int, up: list[ScaleEvent], down: list[ScaleEvent], now: float
) -> int:
    added = replicas_change_per_period(policy_period, up, now)
    removed = replicas_change_per_period(policy_period, down, now)
    return current - added + removed


def scale_up_limit_with_rules(
    current: int, up: list[ScaleEvent], down: list[ScaleEvent], rules: ScalingRules, now: float
) -> int:
    """calculateScaleUpLimitWithScalingRules: the most replicas the policies allow now."""
    if rules.select_policy == DISABLED:
        return current
    pick, result = (min, INT32_MAX) if rules.select_policy == MIN else (max, INT32_MIN)
    for policy in rules.policies or ():
        start = _period_start(current, policy.period_seconds, up, down, now)
        if policy.type == PODS:
            proposed = start + policy.value
        elif policy.type == PERCENT:
            # Rounded up: a small percentage of few pods would otherwise never add one.
            proposed = math.ceil(start * (1 + policy.value / 100))
        else:
            continue
        result = pick(result, proposed)
    return result


def scale_down_limit_with_rules(
    current: int, up: list[ScaleEvent], down: list[ScaleEvent], rules: ScalingRules, now: float
) -> int:
    """calculateScaleDownLimitWithBehaviors: the fewest replicas the policies allow now."""
    if rules.select_policy == DISABLED:
        return current
    pick, result = (max, INT32_MIN) if rules.select_policy == MIN else (min, INT32_MAX)
    for policy in rules.policies or ():
        start = _period_start(current, policy.period_seconds, up, down, now)
        if policy.type == PODS:
            proposed = start - policy.value
        elif policy.type == PERCENT:
            proposed = int(start * (1 - policy.value / 100))
        else:
            continue
        result = pick(result, proposed)
    return result


def convert_desired_replicas_with_behavior_rate(
    current: int,
    desired: int,
    min_replicas: int,
    max_replicas: int,
    up_events: list[ScaleEvent],
    down_events: list[ScaleEvent],
    up_rules: ScalingRules,
    down_rules: ScalingRules,
    now: float,
) -> tuple[int, tuple[str, str]]:
    """convertDesiredReplicasWithBehaviorRate: the replicas within minReplicas, maxReplicas
    and the policies' rate, and why limited."""
    if desired > current:
        # Never below the current size, even when past scale-ups exceed a changed policy.
        limit = max(
            scale_up_limit_with_rules(current, up_events, down_events, up_rules, now), current
        )
        if max_replicas > limit:
            maximum, reason = limit, SCALE_UP_LIMIT
        else:
            maximum, reason = max_replicas, TOO_MANY_REPLICAS
        if desired > maximum:
            return maximum, reason
    elif desired < current:
        limit = min(
            scale_down_limit_with_rules(current, up_events, down_events, down_rules, now), current
        )
        if min_replicas < limit:
            minimum, reason = limit, SCALE_DOWN_LIMIT
        else:
            minimum, reason = min_replicas, TOO_FEW_REPLICAS
        if desired < minimum:
            return minimum, reason
    return desired, DESIRED_WITHIN_RANGE


def normalize_desired_replicas_with_behaviors(
    history: ScalingHistory,
    key: str,
    behavior: Behavior,
    current: int,
    prenormalized: int,
    min_replicas: int,
    max_replicas: int,
    downscale_window: float,
    now: float,
) -> Normalized:
    up_rules = scale_up_rules(behavior.scale_up)
    down_rules = scale_down_rules(behavior.scale_down)
    # maybeInitScaleDownStabilizationWindow: the flag's window when the spec names none.
    down_window = down_rules.stabilization_window_seconds
    if down_window is None:
        down_window = int(downscale_window)
    stabilized, stabilized_reason = stabilize_with_behaviors(
        history.recommendations.setdefault(key, []),
        prenormalized,
        current,
        up_rules.stabilization_window_seconds or 0,
        down_window,
        now,
    )
    able = stabilized_reason if stabilized != prenormalized else READY_FOR_NEW_SCALE
    desired, reason = convert_desired_replicas_with_behavior_rate(
        current,
        stabilized,
        min_replicas,
        max_replicas,
        history.scale_up_events.get(key, []),
        history.scale_down_events.get(key, []),
        up_rules,
        down_rules,
        now,
    )
    return Normalized(
        desired,
        (Condition(ABLE_TO_SCALE, "True", *able), _limited(desired, stabilized, reason)),
    )
