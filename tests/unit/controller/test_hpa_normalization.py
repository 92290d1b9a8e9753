"""How the HPA controller gets from the metrics' replica count to the one it sets, with the
tables of Kubernetes' horizontal_test.go: TestNormalizeDesiredReplicas (the downscale
stabilization window without a behavior), TestScalingWithRules (policies, limits and the
ScalingLimited reason), TestStoreScaleEvents, TestNormalizeDesiredReplicasWithBehavior (both
stabilization windows); and the conditions each path sets."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from controller.podautoscaler.history import (
    Recommendation,
    ScaleEvent,
    ScalingHistory,
    replicas_change_per_period,
)
from controller.podautoscaler.normalize import (
    Condition,
    convert_desired_replicas_with_behavior_rate,
    convert_desired_replicas_with_rules,
    normalize_desired_replicas,
    normalize_desired_replicas_with_behaviors,
    scale_down_limit_with_rules,
    scale_up_limit_with_rules,
    stabilize_recommendation,
    stabilize_with_behaviors,
)
from controller.podautoscaler.rules import (
    DISABLED,
    MAX,
    MIN,
    PERCENT,
    PODS,
    Behavior,
    ScalingPolicy,
    ScalingRules,
    scale_down_rules,
    scale_up_rules,
)

NOW = 1_900_000_000.0


def rules(
    pods: int, pods_period: int, percent: int, percent_period: int, window: int
) -> ScalingRules:
    """generateScalingRules."""
    policies = []
    if pods:
        policies.append(ScalingPolicy(PODS, pods, pods_period))
    if percent:
        policies.append(ScalingPolicy(PERCENT, percent, percent_period))
    return ScalingRules(window, MAX, tuple(policies))


def uniform(changes: list[int], period: int) -> list[ScaleEvent]:
    """generateEventsUniformDistribution: the events spread over the last `period` seconds,
    each in the middle of its segment."""
    segment = period / len(changes)
    return [
        ScaleEvent(c, NOW - (period - segment * (i + 1) + segment / 2))
        for i, c in enumerate(changes)
    ]


# ---------------------------------------------------------------- without a behavior
@pytest.mark.parametrize(
    ("recommendations", "desired", "expected", "log_length"),
    [
        ([], 5, 5, 1),
        ([(4, -120), (5, -60)], 3, 5, 3),
        ([(1, -120), (2, -60)], 3, 3, 3),
        ([(10, -600), (9, -540)], 3, 3, 2),
        ([(10, -600), (4, -60), (5, -120), (9, -540)], 3, 5, 4),
    ],
    ids=["empty log", "stabilize", "no stabilize", "old recommendations", "stabilize, old too"],
)
def test_downscale_stabilization(
    recommendations: list[tuple[int, float]], desired: int, expected: int, log_length: int
) -> None:
    log = [Recommendation(r, NOW + ago) for r, ago in recommendations]
    assert stabilize_recommendation(log, desired, 300.0, NOW) == expected
    assert len(log) == log_length


@pytest.mark.parametrize(
    ("current", "desired", "min_replicas", "max_replicas", "expected", "reason"),
    [
        (5, 7, 3, 8, 7, "DesiredWithinRange"),
        (3, 1, 2, 8, 2, "TooFewReplicas"),
        (1, 0, 0, 10, 0, "DesiredWithinRange"),
        (20, 1000, 1, 10, 10, "TooManyReplicas"),
        (100, 1000, 100, 150, 150, "TooManyReplicas"),
        (10, 50, 1, 1000, 20, "ScaleUpLimit"),  # twice the current
        (1, 50, 1, 1000, 4, "ScaleUpLimit"),  # at least 4
    ],
)
def test_limits_without_a_behavior(
    current: int, desired: int, min_replicas: int, max_replicas: int, expected: int, reason: str
) -> None:
    replicas, (got_reason, _) = convert_desired_replicas_with_rules(
        current, desired, min_replicas, max_replicas
    )
    assert (replicas, got_reason) == (expected, reason)


def test_normalize_without_a_behavior_sets_the_conditions() -> None:
    history = ScalingHistory(recommendations={"ns/a": [Recommendation(8, NOW - 60)]})
    out = normalize_desired_replicas(history, "ns/a", 6, 3, 1, 10, 300.0, NOW)
    assert out.replicas == 8
    assert out.conditions == (
        Condition(
            "AbleToScale",
            "True",
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent "
            "recommendation",
        ),
        Condition(
            "ScalingLimited",
            "False",
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        ),
    )
    out = normalize_desired_replicas(ScalingHistory(), "ns/a", 2, 30, 1, 10, 300.0, NOW)
    assert out.replicas == 4
    assert out.conditions == (
        Condition(
            "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"
        ),
        Condition(
            "ScalingLimited",
            "True",
            "ScaleUpLimit",
            "the desired replica count is increasing faster than the maximum scale rate",
        ),
    )


# ---------------------------------------------------------------- policies (TestScalingWithRules)
@dataclass
class RateCase:
    current: int
    desired: int
    min_replicas: int
    max_replicas: int
    expected: int
    reason: str
    up: ScalingRules | None = None
    down: ScalingRules | None = None
    up_events: list[ScaleEvent] = field(default_factory=list)
    down_events: list[ScaleEvent] = field(default_factory=list)


E = uniform
RATE_CASES = {
    "within range": RateCase(5, 7, 3, 8, 7, "DesiredWithinRange"),
    "below minReplicas": RateCase(3, 1, 2, 8, 2, "TooFewReplicas"),
    "within range with minReplicas 0": RateCase(1, 0, 0, 10, 0, "DesiredWithinRange"),
    "maxReplicas below the scale-up limit": RateCase(20, 1000, 1, 10, 10, "TooManyReplicas"),
    "more than maxReplicas": RateCase(100, 1000, 100, 150, 150, "TooManyReplicas"),
    "user scale-up policy": RateCase(3, 1000, 1, 2000, 4, "ScaleUpLimit", up=rules(0, 0, 1, 60, 0)),
    "user scale-down policy": RateCase(
        1000, 3, 3, 2000, 980, "ScaleDownLimit", down=rules(20, 60, 0, 0, 0)
    ),
    "default scale-up": RateCase(10, 50, 1, 1000, 20, "ScaleUpLimit"),
    "pods policy over percent": RateCase(
        10, 500, 1, 1000, 110, "ScaleUpLimit", up=rules(100, 60, 100, 60, 0)
    ),
    "percent policy over pods": RateCase(
        10, 500, 1, 1000, 20, "ScaleUpLimit", up=rules(2, 60, 100, 60, 0)
    ),
    "large pods policy": RateCase(
        10, 50, 1, 1000, 50, "DesiredWithinRange", up=rules(100, 60, 0, 0, 0)
    ),
    "large percent policy": RateCase(
        10, 50, 1, 1000, 50, "DesiredWithinRange", up=rules(10000, 60, 0, 0, 0)
    ),
    "pods policy limit": RateCase(10, 50, 1, 1000, 40, "ScaleUpLimit", up=rules(30, 60, 0, 0, 0)),
    "percent policy limit": RateCase(
        10, 50, 1, 1000, 30, "ScaleUpLimit", up=rules(0, 0, 200, 60, 0)
    ),
    "scale down, percent over pods": RateCase(
        100, 2, 1, 1000, 80, "ScaleDownLimit", down=rules(20, 60, 1, 60, 300)
    ),
    "scale down, pods over percent": RateCase(
        100, 2, 1, 1000, 98, "ScaleDownLimit", down=rules(2, 60, 1, 60, 300)
    ),
    "scale down to minReplicas, large pods policy": RateCase(
        10, 0, 1, 1000, 1, "TooFewReplicas", down=rules(100, 60, 0, 0, 300)
    ),
    "scale down to minReplicas, large percent policy": RateCase(
        10, 2, 5, 1000, 5, "TooFewReplicas", down=rules(0, 0, 100, 60, 300)
    ),
    "scale down, pods policy limit": RateCase(
        10, 2, 1, 1000, 5, "ScaleDownLimit", down=rules(5, 60, 0, 0, 300)
    ),
    "scale down, percent policy": RateCase(
        10, 5, 1, 1000, 5, "DesiredWithinRange", down=rules(0, 0, 50, 60, 300)
    ),
    "maxReplicas, large pods policy and events": RateCase(
        100,
        500,
        1,
        200,
        200,
        "TooManyReplicas",
        up=rules(300, 60, 0, 0, 0),
        up_events=E([1, 5, 9], 120),
    ),
    "maxReplicas, large percent policy and events": RateCase(
        100,
        500,
        1,
        200,
        200,
        "TooManyReplicas",
        up=rules(0, 0, 10000, 60, 0),
        up_events=E([1, 5, 9], 120),
    ),
    "no scale-up below the current size after many scale-ups": RateCase(
        100,
        500,
        1,
        1000,
        100,
        "ScaleUpLimit",
        up=rules(5, 120, 0, 0, 0),
        up_events=E([1, 5, 9], 120),
    ),
    "pods policy and previous scale-ups": RateCase(
        100,
        500,
        1,
        1000,
        235,
        "ScaleUpLimit",
        up=rules(150, 120, 0, 0, 0),
        up_events=E([1, 5, 9], 120),
    ),
    "percent policy and previous scale-ups": RateCase(
        100,
        500,
        1,
        1000,
        255,
        "ScaleUpLimit",
        up=rules(0, 0, 200, 120, 0),
        up_events=E([1, 5, 9], 120),
    ),
    "percent policy and previous scale-ups and downs": RateCase(
        6,
        24,
        1,
        1000,
        16,
        "ScaleUpLimit",
        up=rules(0, 0, 300, 300, 0),
        up_events=E([4], 120),
        down_events=E([2], 120),
    ),
    "default scale-down and previous events": RateCase(
        10, 5, 1, 1000, 5, "DesiredWithinRange", down_events=E([1, 5, 9], 120)
    ),
    "scale down to minReplicas 1 with previous events": RateCase(
        100,
        0,
        1,
        1000,
        1,
        "TooFewReplicas",
        down=rules(115, 120, 0, 0, 300),
        down_events=E([1, 5, 9], 120),
    ),
    "scale down to minReplicas 5 with previous events": RateCase(
        100,
        0,
        5,
        1000,
        5,
        "TooFewReplicas",
        down=rules(130, 120, 0, 0, 300),
        down_events=E([1, 5, 9], 120),
    ),
    "scale down, 100 % removal, minReplicas": RateCase(
        100,
        2,
        5,
        1000,
        5,
        "TooFewReplicas",
        down=rules(0, 0, 100, 120, 300),
        down_events=E([1, 5, 9], 120),
    ),
    "scale down, pods policy limit and previous events": RateCase(
        100,
        2,
        1,
        1000,
        100,
        "ScaleDownLimit",
        down=rules(5, 120, 0, 0, 300),
        down_events=E([1, 5, 9], 120),
    ),
    "scale down, percent policy limit and previous events": RateCase(
        100,
        0,
        1,
        1000,
        56,
        "ScaleDownLimit",
        down=rules(0, 0, 50, 120, 300),
        down_events=E([2, 4, 6], 120),
    ),
    "scale down, percent policy and previous scale-ups and downs": RateCase(
        10,
        1,
        1,
        1000,
        6,
        "ScaleDownLimit",
        down=rules(0, 0, 50, 180, 0),
        up_events=E([2], 120),
        down_events=E([4], 120),
    ),
    "no scale-down above the current size after many scale-downs": RateCase(
        100,
        0,
        1,
        1000,
        100,
        "ScaleDownLimit",
        down=rules(0, 0, 10, 120, 300),
        down_events=E([10, 10, 10], 120),
    ),
    "previous scale-downs still allow more": RateCase(
        10,
        5,
        1,
        1000,
        5,
        "DesiredWithinRange",
        down=rules(0, 0, 1000, 120, 300),
        down_events=E([10, 10, 10], 120),
    ),
    "outdated up events, one policy": RateCase(
        100,
        200,
        1,
        1000,
        200,
        "DesiredWithinRange",
        up=rules(1000, 60, 0, 0, 0),
        up_events=E([8, 12, 9, 11], 120),
    ),
    "outdated up events, two policies": RateCase(
        100,
        200,
        1,
        1000,
        200,
        "DesiredWithinRange",
        up=rules(1000, 120, 100, 60, 0),
        up_events=E([8, 12, 9, 11], 120),
    ),
    "outdated down events, one policy": RateCase(
        100,
        5,
        1,
        1000,
        5,
        "DesiredWithinRange",
        down=rules(1000, 60, 0, 0, 300),
        down_events=E([8, 12, 9, 11], 120),
    ),
    "outdated down events, two policies": RateCase(
        100,
        5,
        1,
        1000,
        5,
        "DesiredWithinRange",
        down=rules(1000, 30, 100, 60, 300),
        down_events=E([8, 12, 9, 11], 120),
    ),
}


@pytest.mark.parametrize("case", RATE_CASES.values(), ids=RATE_CASES.keys())
def test_scaling_with_rules(case: RateCase) -> None:
    replicas, (reason, _) = convert_desired_replicas_with_behavior_rate(
        case.current,
        case.desired,
        case.min_replicas,
        case.max_replicas,
        case.up_events,
        case.down_events,
        scale_up_rules(case.up),
        scale_down_rules(case.down),
        NOW,
    )
    assert (replicas, reason) == (case.expected, case.reason)


def test_select_policy_min_and_disabled() -> None:
    both = (ScalingPolicy(PODS, 2, 60), ScalingPolicy(PERCENT, 50, 60))
    assert scale_down_limit_with_rules(5, [], [], ScalingRules(300, MIN, both), NOW) == 3
    assert scale_down_limit_with_rules(5, [], [], ScalingRules(300, MAX, both), NOW) == 2
    assert scale_up_limit_with_rules(5, [], [], ScalingRules(0, MIN, both), NOW) == 7
    assert scale_up_limit_with_rules(5, [], [], ScalingRules(0, MAX, both), NOW) == 8
    assert scale_up_limit_with_rules(5, [], [], ScalingRules(0, DISABLED, both), NOW) == 5
    assert scale_down_limit_with_rules(5, [], [], ScalingRules(0, DISABLED, both), NOW) == 5


def test_defaults_fill_what_the_spec_leaves_out() -> None:
    assert scale_up_rules(None) == ScalingRules(
        0, MAX, (ScalingPolicy(PODS, 4, 15), ScalingPolicy(PERCENT, 100, 15))
    )
    assert scale_down_rules(ScalingRules(select_policy=MIN)) == ScalingRules(
        None, MIN, (ScalingPolicy(PERCENT, 100, 15),)
    )


# ---------------------------------------------------------------- TestStoreScaleEvents
STORE_CASES = {
    "empty, no behavior": ([], [], None, 0),
    "empty, two policies": ([], [(5, False)], rules(10, 60, 100, 60, 0), 0),
    "outdated entry kept without a behavior": ([(7, -61)], [(7, False)], None, 0),
    "outdated entry replaced": ([(7, -61)], [(5, False)], rules(10, 60, 100, 60, 0), 0),
    "actual entry kept": ([(7, -58)], [(7, False), (5, False)], rules(10, 60, 100, 60, 0), 7),
    "two entries, one replaced": (
        [(7, -61), (6, -59)],
        [(5, False), (6, False)],
        rules(10, 60, 0, 0, 0),
        6,
    ),
    "policies of different periods": (
        [(8, -29), (6, -59), (7, -61), (9, -61)],
        [(8, False), (6, False), (7, True), (5, False)],
        rules(10, 60, 100, 30, 0),
        14,
    ),
    "two actual entries": (
        [(7, -58), (6, -59)],
        [(7, False), (6, False), (5, False)],
        rules(10, 120, 100, 30, 0),
        13,
    ),
}


@pytest.mark.parametrize("direction", ["up", "down"])
@pytest.mark.parametrize(
    ("previous", "stored", "scaling", "change_before"), STORE_CASES.values(), ids=STORE_CASES.keys()
)
def test_store_scale_events(
    direction: str,
    previous: list[tuple[int, float]],
    stored: list[tuple[int, bool]],
    scaling: ScalingRules | None,
    change_before: int,
) -> None:
    history = ScalingHistory()
    events = [ScaleEvent(c, NOW + ago) for c, ago in previous]
    if direction == "up":
        history.scale_up_events["k"] = events
        behavior = None if scaling is None else Behavior(scale_up=scaling)
        new = 15
    else:
        history.scale_down_events["k"] = events
        behavior = None if scaling is None else Behavior(scale_down=scaling)
        new = 5
    assert replicas_change_per_period(60, events, NOW) == change_before
    history.store_scale_event(behavior, "k", 10, new, NOW)
    got = history.scale_up_events["k"] if direction == "up" else history.scale_down_events["k"]
    assert [(e.replica_change, e.outdated) for e in got] == stored


# ------------------------------------------------ TestNormalizeDesiredReplicasWithBehavior
BEHAVIOR_CASES = {
    "empty recommendations, scaling down": ([], 100, 5, 5, [5], 0, 0),
    "simple scale-down stabilization": ([(4, -120), (5, -60)], 100, 3, 5, [4, 5, 3], 0, 180),
    "simple scale-up stabilization": ([(4, -120), (5, -60)], 1, 7, 4, [4, 5, 7], 300, 0),
    "no scale-down stabilization": ([(1, -120), (2, -60)], 100, 3, 3, [1, 2, 3], 300, 0),
    "no scale-up stabilization": ([(4, -120), (5, -60)], 1, 3, 3, [4, 5, 3], 0, 300),
    "no scale-down stabilization, slot reused": ([(10, -600), (9, -540)], 100, 3, 3, [10, 3], 0, 0),
    "no scale-up stabilization, slot reused": (
        [(10, -600), (9, -540)],
        1,
        100,
        100,
        [10, 100],
        0,
        0,
    ),
    "scale-down stabilization, an obsolete slot reused": (
        [(10, -600), (4, -60), (5, -120), (9, -540)],
        100,
        3,
        5,
        [10, 4, 5, 3],
        0,
        180,
    ),
    "scale-up stabilization, an obsolete slot reused": (
        [(10, -6000), (6, -60), (5, -120), (9, -180)],
        1,
        100,
        5,
        [100, 6, 5, 9],
        300,
        0,
    ),
    "no scale-up when the recommendation goes down": (
        [(2, -6000), (3, -180)],
        2,
        1,
        2,
        None,
        300,
        300,
    ),
    "no scale-down when the recommendation goes up": (
        [(2, -6000), (1, -180)],
        2,
        3,
        2,
        None,
        300,
        300,
    ),
}


@pytest.mark.parametrize(
    ("recommendations", "current", "desired", "expected", "stored", "up_window", "down_window"),
    BEHAVIOR_CASES.values(),
    ids=BEHAVIOR_CASES.keys(),
)
def test_stabilization_with_behaviors(
    recommendations: list[tuple[int, float]],
    current: int,
    desired: int,
    expected: int,
    stored: list[int] | None,
    up_window: int,
    down_window: int,
) -> None:
    log = [Recommendation(r, NOW + ago) for r, ago in recommendations]
    got, _ = stabilize_with_behaviors(log, desired, current, up_window, down_window, NOW)
    assert got == expected
    if stored is not None:
        assert [r.replicas for r in log] == stored


def test_normalize_with_behaviors_uses_the_flag_window_and_says_why() -> None:
    """A scale-down behavior without a window takes the controller's (maybeInit...)."""
    history = ScalingHistory(recommendations={"k": [Recommendation(9, NOW - 200)]})
    out = normalize_desired_replicas_with_behaviors(
        history, "k", Behavior(scale_down=ScalingRules(select_policy=MAX)), 10, 2, 1, 20, 300.0, NOW
    )
    assert out.replicas == 9
    assert out.conditions[0].reason == "ScaleDownStabilized"
    assert out.conditions[1] == Condition(
        "ScalingLimited",
        "False",
        "DesiredWithinRange",
        "the desired count is within the acceptable range",
    )
    history = ScalingHistory(recommendations={"k": [Recommendation(2, NOW - 200)]})
    out = normalize_desired_replicas_with_behaviors(
        history,
        "k",
        Behavior(scale_up=ScalingRules(stabilization_window_seconds=300)),
        2,
        9,
        1,
        20,
        300.0,
        NOW,
    )
    assert (out.replicas, out.conditions[0].reason) == (2, "ScaleUpStabilized")
    assert out.conditions[0].message == (
        "recent recommendations were lower than current one, applying the lowest recent "
        "recommendation"
    )
