"""A Deployment's rollout arithmetic, as Kubernetes' deployment_util computes it: maxSurge and
maxUnavailable resolved against replicas (surge rounds up, unavailable down), how far one step
grows the new ReplicaSet and shrinks the old ones, proportional scaling when replicas change, and
the revision and pod-template-hash bookkeeping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from controller.deployment import revision as revisions
from controller.deployment import rollout
from podplane.api.apps.v1 import apps_pb2
from tests.unit.controller.deployment_objects import T0, T1, T2, deploy, rs, template

ROOT = Path(__file__).resolve().parents[3]


# ---------------------------------------------------------------- maxSurge and maxUnavailable


@pytest.mark.parametrize(
    "value,total,round_up,expected",
    [
        ("3", 10, True, 3),
        ("3", 10, False, 3),
        ("25%", 10, True, 3),  # 2.5 up
        ("25%", 10, False, 2),  # 2.5 down
        ("25%", 4, False, 1),
        ("0%", 7, True, 0),
        ("100%", 7, False, 7),
        ("1%", 1, True, 1),
        ("1%", 1, False, 0),
    ],
)
def test_int_or_percent(value: str, total: int, round_up: bool, expected: int) -> None:
    assert rollout.scaled_value(value, total, round_up) == expected


def test_a_malformed_int_or_percent_is_refused() -> None:
    with pytest.raises(ValueError, match="must be an integer or percentage"):
        rollout.scaled_value("25 percent", 10, True)


@pytest.mark.parametrize(
    "surge,unavailable,replicas,expected",
    [
        ("25%", "25%", 10, (3, 2)),
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 1, (1, 0)),
        ("0", "0", 5, (0, 1)),  # nothing could move: one may be unavailable
        ("0%", "10%", 5, (0, 1)),  # 0.5 rounds down to 0, then the same rule
        ("2", "0", 3, (2, 0)),
    ],
)
def test_fenceposts(surge: str, unavailable: str, replicas: int, expected: tuple[int, int]) -> None:
    assert rollout.resolve_fenceposts(surge, unavailable, replicas) == expected


def test_max_unavailable_is_at_most_replicas_and_zero_without_rolling() -> None:
    assert rollout.max_unavailable(deploy(2, "1", "5")) == 2
    assert rollout.max_unavailable(deploy(0, "1", "1")) == 0
    assert rollout.max_unavailable(deploy(3, strategy="Recreate")) == 0
    assert rollout.max_surge(deploy(3, strategy="Recreate")) == 0
    assert rollout.min_available(deploy(10)) == 8


# ---------------------------------------------------------------- one rolling step


@pytest.mark.parametrize(
    "d,old_sizes,new_size,expected",
    [
        (deploy(10), [10], 0, 3),  # up to replicas + surge (13)
        (deploy(10), [10], 3, 3),  # at 13 already
        (deploy(10), [7], 3, 6),  # old shrank by 3: 3 more
        (deploy(10), [1], 8, 10),  # never beyond replicas
        (deploy(3, "0", "1"), [3], 0, 0),  # no surge: wait for old pods to go
        (deploy(3, "0", "1"), [2], 0, 1),
        (deploy(5, strategy="Recreate"), [0], 0, 5),
    ],
)
def test_how_far_the_new_replica_set_grows(
    d: apps_pb2.Deployment, old_sizes: list[int], new_size: int, expected: int
) -> None:
    new = rs("new", new_size)
    olds = [rs(f"old{i}", s) for i, s in enumerate(old_sizes)]
    assert rollout.new_rs_new_replicas(d, [*olds, new], new) == expected


@pytest.mark.parametrize(
    "case,d,old,new,expected",
    [
        # New pods not available yet: only the unavailable budget (4 + 1 - 3 - 1 = 1) may go.
        ("surge pod starting", deploy(4, "1", "1"), [rs("old", 4)], rs("new", 1, 0), {"old": 3}),
        ("surge pod available", deploy(4, "1", "1"), [rs("old", 4)], rs("new", 1, 1), {"old": 2}),
        ("nothing to spare", deploy(4, "1", "0"), [rs("old", 4)], rs("new", 1, 0), {}),
        # Pods that are not available anyway go first, within the budget.
        ("unhealthy first", deploy(4, "1", "1"), [rs("old", 4, 2)], rs("new", 1, 0), {"old": 3}),
        # The oldest replica set shrinks first.
        (
            "oldest first",
            deploy(4, "1", "1"),
            [rs("older", 2, created=T0), rs("old", 2, created=T1)],
            rs("new", 1, 1),
            {"older": 0},
        ),
        ("no old pods", deploy(4, "1", "1"), [rs("old", 0)], rs("new", 4, 4), {}),
        # Its status still counts 3 pods after it was scaled to 2: only 2 may count as available,
        # else a second step would take a pod the first one already took.
        (
            "status behind a scale-down",
            deploy(3, "1", "1"),
            [rs("old", 2, 3)],
            rs("new", 2, 1),
            {"old": 1},
        ),
    ],
)
def test_how_far_old_replica_sets_shrink(
    case: str,
    d: apps_pb2.Deployment,
    old: list[apps_pb2.ReplicaSet],
    new: apps_pb2.ReplicaSet,
    expected: dict[str, int],
) -> None:
    assert rollout.old_rs_sizes(d, new, old) == expected


def test_a_rolling_update_step_by_step() -> None:
    """Plays the controller, a ReplicaSet controller that deletes at once, and pods that become
    available one step after they are created, until the new template has every replica: never
    fewer than 8 of 10 available, never more than 13 pods."""
    d = deploy(10, "25%", "25%")
    old, new = rs("old", 10), rs("new", 0, created=T1)
    old_pods, new_ready, new_starting = 10, 0, 0
    for step in range(30):
        new_ready += new_starting
        new_starting = new.spec.replicas - new_ready
        old_pods = min(old_pods, old.spec.replicas)
        old.status.available_replicas, new.status.available_replicas = old_pods, new_ready
        assert old_pods + new_ready >= 8
        assert old_pods + new_ready + new_starting <= 13
        if (old_pods, new_ready) == (0, 10):
            assert step <= 12
            break
        target = rollout.new_rs_new_replicas(d, [old, new], new)
        if target != new.spec.replicas:
            new.spec.replicas = target
            continue
        for size in rollout.old_rs_sizes(d, new, [old]).values():
            old.spec.replicas = size
    else:
        raise AssertionError("the rollout did not finish")


# ---------------------------------------------------------------- scaling: replicas changed


def test_a_replicas_change_is_a_scaling_event() -> None:
    d = deploy(12)
    assert rollout.is_scaling_event(d, [rs("a", 10, desired=10)])
    assert not rollout.is_scaling_event(d, [rs("a", 12, desired=12), rs("b", 0, desired=10)])
    assert not rollout.is_scaling_event(d, [rs("a", 10)])  # not annotated: nothing to compare


def test_proportional_scale_up_and_down() -> None:
    # 10 -> 12 replicas mid-rollout: 13 allowed before, 15 now; 2 spread over 8 and 5.
    up = deploy(12)
    old, new = rs("old", 8, most=13, created=T0), rs("new", 5, most=13, created=T1)
    assert rollout.scale_sizes(up, new, [old]) == {"old": 9, "new": 6}
    # 10 -> 5: 7 allowed; 6 to remove, the larger first.
    down = deploy(5)
    assert rollout.scale_sizes(down, new, [old]) == {"old": 4, "new": 3}
    # What rounding leaves over goes to the first: the largest, the newest among equals.
    assert rollout.scale_sizes(
        deploy(4, "0", "1"),
        rs("c", 1, most=3, created=T2),
        [rs("a", 1, most=3, created=T0), rs("b", 1, most=3, created=T1)],
    ) == {"a": 1, "b": 1, "c": 2}


def test_scale_with_one_active_or_a_saturated_new_replica_set() -> None:
    d = deploy(7)
    assert rollout.scale_sizes(d, rs("new", 3, created=T1), [rs("old", 0)]) == {"new": 7}
    assert rollout.scale_sizes(d, None, [rs("a", 0, created=T0), rs("b", 0, created=T1)]) == {
        "b": 7
    }
    saturated = rs("new", 7, 7, desired=7, created=T2)
    assert rollout.scale_sizes(d, saturated, [rs("old", 2)]) == {"old": 0}


def test_replicas_annotations() -> None:
    r = rs("a", 3)
    assert rollout.set_replicas_annotations(r, deploy(4, "1", "1"))
    assert (
        r.metadata.annotations[rollout.DESIRED_REPLICAS_ANNOTATION],
        r.metadata.annotations[rollout.MAX_REPLICAS_ANNOTATION],
    ) == ("4", "5")
    assert not rollout.replicas_annotations_need_update(r, deploy(4, "1", "1"))
    assert rollout.replicas_annotations_need_update(r, deploy(6, "1", "1"))


# ---------------------------------------------------------------- revisions


def test_revision_annotations_of_a_new_and_a_revived_replica_set() -> None:
    d = deploy(3, "1", "1")
    d.metadata.annotations["kubernetes.io/change-cause"] = "image 2.0"
    d.metadata.annotations[revisions.REVISION_ANNOTATION] = "2"
    d.metadata.annotations[revisions.LAST_APPLIED_ANNOTATION] = "{}"
    fresh = rs("new", 0)
    assert revisions.set_new_rs_annotations(d, fresh, 3, exists=False)
    assert dict(fresh.metadata.annotations) == {
        "kubernetes.io/change-cause": "image 2.0",
        revisions.REVISION_ANNOTATION: "3",
        rollout.DESIRED_REPLICAS_ANNOTATION: "3",
        rollout.MAX_REPLICAS_ANNOTATION: "4",
    }
    # A rollback revives revision 1 as revision 4; the old number goes to the history.
    revived = rs("old", 0, revision=1)
    revived.metadata.annotations["kubernetes.io/change-cause"] = "image 2.0"
    assert revisions.set_new_rs_annotations(d, revived, 4, exists=True)
    assert revived.metadata.annotations[revisions.REVISION_ANNOTATION] == "4"
    assert revived.metadata.annotations[revisions.REVISION_HISTORY_ANNOTATION] == "1"
    # Never lowered.
    assert not revisions.set_new_rs_annotations(d, revived, 2, exists=True)


def test_max_revision_and_the_order_of_cleanup() -> None:
    rss = [
        rs("c", 0, revision=3, created=T0),
        rs("a", 0, revision=1, created=T2),
        rs("b", 0, revision=2, created=T1),
        rs("x", 0),
    ]
    assert revisions.max_revision(rss) == 3
    assert [r.metadata.name for r in revisions.by_revision(rss)] == ["x", "a", "b", "c"]


# ---------------------------------------------------------------- the pod-template hash


def test_safe_encoding_and_fnv32a() -> None:
    assert revisions.safe_encode("0123456789") == "456789bcdf"
    assert revisions.fnv32a(b"") == 0x811C9DC5
    assert revisions.fnv32a(b"a") == 0xE40C292C


def test_the_hash_depends_on_the_template_only() -> None:
    a = template()
    b = template()
    b.metadata.labels.clear()
    b.metadata.labels["app"] = "web"  # same labels, built in another order
    assert revisions.template_hash(a) == revisions.template_hash(b)
    assert revisions.template_hash(a) != revisions.template_hash(template("nginx:1.28"))
    assert revisions.template_hash(a) != revisions.template_hash(a, collision_count=1)
    assert revisions.template_hash(a, 1) != revisions.template_hash(a, 2)
    assert all(ch in "bcdfghjklmnpqrstvwxz2456789" for ch in revisions.template_hash(a))


def test_the_hash_is_the_same_in_another_process() -> None:
    code = (
        "from controller.deployment import revision as revisions\n"
        "from tests.unit.controller.deployment_objects import template\n"
        "print(revisions.template_hash(template()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        check=True,
    ).stdout
    assert out.strip() == revisions.template_hash(template())


def test_the_new_replica_set_is_found_ignoring_its_hash_label() -> None:
    d = deploy()
    d.spec.template.CopyFrom(template())
    old = rs("old", 1, created=T0)
    old.spec.template.CopyFrom(template("nginx:1.26", **{revisions.POD_TEMPLATE_HASH_LABEL: "x"}))
    new = rs("new", 1, created=T1)
    new.spec.template.CopyFrom(template(**{revisions.POD_TEMPLATE_HASH_LABEL: "y"}))
    assert revisions.find_new_rs(d, [old, new]) is new
    assert revisions.find_new_rs(d, [old]) is None
