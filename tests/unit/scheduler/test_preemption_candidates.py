"""Which candidate node preemption picks (kubernetes pickOneNodeForPreemption): the fewest
PodDisruptionBudget violations, then the lowest priority of the most important victim, the
smallest sum of priorities, the fewest victims, the latest start among the most important
victims, and the first found."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.framework.preemption.candidates import Candidate, pick_one
from tests.unit.scheduler.schedtest import pod

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def victim(priority: int, start: str = "2024-05-01T10:00:00Z") -> core_pb2.Pod:
    return pod(f"v{priority}", priority=priority, start_time=start)


def candidate(name: str, *victims: core_pb2.Pod, violations: int = 0) -> Candidate:
    return Candidate(name, victims, violations)


@pytest.mark.parametrize(
    ("candidates", "picked"),
    [
        pytest.param(
            [
                candidate("a", victim(1), violations=1),
                candidate("b", victim(9), victim(9), victim(9)),
            ],
            "b",
            id="fewest budget violations first, whatever the victims",
        ),
        pytest.param(
            [candidate("a", victim(5)), candidate("b", victim(3), victim(3), victim(2))],
            "b",
            id="then the lowest priority of the most important victim",
        ),
        pytest.param(
            [candidate("a", victim(3), victim(3)), candidate("b", victim(3), victim(1))],
            "b",
            id="then the smallest sum of priorities",
        ),
        pytest.param(
            [candidate("a", victim(-1), victim(-1)), candidate("b", victim(-1))],
            "b",
            id="negative priorities do not make more victims look cheaper",
        ),
        pytest.param(
            [candidate("a", victim(2), victim(0)), candidate("b", victim(2))],
            "b",
            id="then the fewest victims",
        ),
        pytest.param(
            [
                candidate("a", victim(2, "2024-05-01T09:00:00Z")),
                candidate("b", victim(2, "2024-05-01T11:00:00Z")),
            ],
            "b",
            id="then the most recently started of the most important victims",
        ),
        pytest.param(
            [
                candidate(
                    "a", victim(2, "2024-05-01T11:00:00Z"), victim(2, "2024-05-01T08:00:00Z")
                ),
                candidate(
                    "b", victim(2, "2024-05-01T10:00:00Z"), victim(2, "2024-05-01T10:00:00Z")
                ),
            ],
            "b",
            id="the earliest start among a node's most important victims is what counts",
        ),
        pytest.param(
            [candidate("a", victim(2, "")), candidate("b", victim(2))],
            "a",
            id="a victim not started yet counts as starting now",
        ),
        pytest.param(
            [candidate("a", victim(2)), candidate("b", victim(2))],
            "a",
            id="then the first found",
        ),
    ],
)
def test_pick_one(candidates: list[Candidate], picked: str) -> None:
    best = pick_one(candidates, NOW)
    assert best is not None and best.node_name == picked


def test_no_candidates_no_pick() -> None:
    assert pick_one([], NOW) is None
