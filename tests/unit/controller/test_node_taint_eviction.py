"""When a pod under its node's NoExecute taints must go: at once without a matching toleration,
after the shortest tolerationSeconds of the tolerations it uses, never with an unbounded one;
counted from the taint's timeAdded, or from the pod's binding when that came later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controller.nodelifecycle.taint_eviction import eviction_time, toleration_seconds
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.tolerations import tolerates

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
ADDED = "2030-01-01T00:00:00Z"
T_ADDED = datetime(2030, 1, 1, tzinfo=UTC)


def taint(key: str, value: str = "", added: str = ADDED) -> core_pb2.Taint:
    return core_pb2.Taint(key=key, value=value, effect="NoExecute", time_added=added)


def toleration(
    key: str = "",
    operator: str = "Exists",
    value: str = "",
    effect: str = "NoExecute",
    seconds: int | None = None,
) -> core_pb2.Toleration:
    t = core_pb2.Toleration(key=key, operator=operator, value=value, effect=effect)
    if seconds is not None:
        t.toleration_seconds = seconds
    return t


def default_tolerations(seconds: int = 300) -> list[core_pb2.Toleration]:
    """What the apiserver gives every pod (DefaultTolerationSeconds)."""
    return [toleration(NOT_READY, seconds=seconds), toleration(UNREACHABLE, seconds=seconds)]


@pytest.mark.parametrize(
    "t, tolerated",
    [
        (toleration(UNREACHABLE), True),
        (toleration(), True),  # empty key with Exists: everything
        (toleration(NOT_READY), False),
        (toleration(UNREACHABLE, effect="NoSchedule"), False),
        (toleration(UNREACHABLE, effect=""), True),
        (toleration("dedicated", "Equal", "gpu"), False),  # value differs from the taint's ""
    ],
)
def test_tolerates(t: core_pb2.Toleration, tolerated: bool) -> None:
    t_ = taint(UNREACHABLE)
    assert tolerates(t, t_.key, t_.value, t_.effect) is tolerated


def test_equal_matches_the_value() -> None:
    gpu = taint("dedicated", "gpu")
    assert tolerates(toleration("dedicated", "", "gpu"), gpu.key, gpu.value, gpu.effect)
    assert not tolerates(toleration("dedicated", "Equal", "cpu"), gpu.key, gpu.value, gpu.effect)


@pytest.mark.parametrize(
    "taints, tolerations, seconds",
    [
        ([], default_tolerations(), None),
        ([taint(UNREACHABLE)], default_tolerations(), 300.0),
        ([taint(UNREACHABLE)], default_tolerations(2), 2.0),
        ([taint(UNREACHABLE)], [], 0.0),
        ([taint(UNREACHABLE), taint("dedicated")], default_tolerations(), 0.0),  # one untolerated
        ([taint(UNREACHABLE)], [toleration(UNREACHABLE)], None),  # no tolerationSeconds: for ever
        (
            [taint(UNREACHABLE), taint(NOT_READY)],
            [toleration(UNREACHABLE, seconds=30), toleration(NOT_READY, seconds=10)],
            10.0,
        ),
        ([taint(UNREACHABLE)], [toleration(UNREACHABLE, seconds=-5)], 0.0),
        # The first matching toleration is the one used, as in Kubernetes.
        ([taint(UNREACHABLE)], [toleration(UNREACHABLE), toleration(seconds=5)], None),
    ],
    ids=[
        "no-taints",
        "default",
        "short",
        "none-match",
        "one-untolerated",
        "unbounded",
        "shortest",
        "negative",
        "first-match",
    ],
)
def test_toleration_seconds(
    taints: list[core_pb2.Taint], tolerations: list[core_pb2.Toleration], seconds: float | None
) -> None:
    assert toleration_seconds(taints, tolerations) == seconds


def pod(
    tolerations: list[core_pb2.Toleration], bound: str = "2029-12-31T00:00:00Z"
) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.creation_timestamp = "2029-12-30T00:00:00Z"
    p.spec.tolerations.extend(tolerations)
    p.status.conditions.add(type="PodScheduled", status="True", last_transition_time=bound)
    return p


def never_seen(_: core_pb2.Taint) -> datetime:
    raise AssertionError("every taint here has a timeAdded")


def test_eviction_counts_from_the_taint() -> None:
    at = eviction_time(pod(default_tolerations(2)), [taint(UNREACHABLE)], never_seen)
    assert at == T_ADDED + timedelta(seconds=2)


def test_a_pod_bound_after_the_taint_gets_its_full_toleration() -> None:
    bound = "2030-01-01T00:10:00Z"
    at = eviction_time(pod(default_tolerations(60), bound=bound), [taint(UNREACHABLE)], never_seen)
    assert at == T_ADDED + timedelta(minutes=11)


def test_an_untolerated_taint_means_now_and_an_unbounded_toleration_never() -> None:
    assert eviction_time(pod([]), [taint("dedicated")], never_seen) == T_ADDED
    assert eviction_time(pod([toleration(UNREACHABLE)]), [taint(UNREACHABLE)], never_seen) is None


def test_a_taint_without_time_added_counts_from_when_it_was_first_seen() -> None:
    seen = T_ADDED + timedelta(hours=1)
    at = eviction_time(pod(default_tolerations(5)), [taint(UNREACHABLE, added="")], lambda _t: seen)
    assert at == seen + timedelta(seconds=5)


def test_the_earliest_taint_starts_the_count() -> None:
    taints = [taint(NOT_READY, added="2030-01-01T00:05:00Z"), taint(UNREACHABLE)]
    at = eviction_time(pod(default_tolerations(30)), taints, never_seen)
    assert at == T_ADDED + timedelta(seconds=30)
