"""Expectations: an owner is managed again only once its own creates and deletes have been seen,
each deletion counted once, or after the timeout."""

from __future__ import annotations

from controller.framework.expectations import Expectations

OWNER = "default/web"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_owner_without_expectations_is_satisfied() -> None:
    assert Expectations().satisfied(OWNER)
    assert Expectations().expires_in(OWNER) is None


def test_creations_are_satisfied_when_all_are_observed() -> None:
    e = Expectations()
    e.expect_creations(OWNER, 3)
    for left in (2, 1):
        e.creation_observed(OWNER)
        assert not e.satisfied(OWNER) and e.pending(OWNER) == (left, 0)
    e.creation_observed(OWNER)
    assert e.satisfied(OWNER)
    e.creation_observed(OWNER)  # more than expected (an adoption, say): still satisfied
    assert e.satisfied(OWNER)


def test_each_deletion_counts_once_by_pod_key() -> None:
    e = Expectations()
    e.expect_deletions(OWNER, ["default/web-a", "default/web-b"])
    e.deletion_observed(OWNER, "default/web-a")  # its deletionTimestamp
    e.deletion_observed(OWNER, "default/web-a")  # then its removal
    e.deletion_observed(OWNER, "default/other")
    assert not e.satisfied(OWNER) and e.pending(OWNER) == (0, 1)
    e.deletion_observed(OWNER, "default/web-b")
    assert e.satisfied(OWNER)


def test_expectations_time_out() -> None:
    clock = Clock()
    e = Expectations(timeout=300.0, clock=clock)
    e.expect_creations(OWNER, 2)
    clock.now += 120
    assert not e.satisfied(OWNER) and e.expires_in(OWNER) == 180.0
    clock.now += 181
    assert e.satisfied(OWNER)


def test_new_expectations_replace_old_ones_and_delete_forgets() -> None:
    e = Expectations()
    e.expect_creations(OWNER, 2)
    e.expect_deletions(OWNER, ["default/web-a"])
    assert e.pending(OWNER) == (0, 1)
    e.delete(OWNER)
    assert e.satisfied(OWNER) and e.pending(OWNER) == (0, 0)
    e.creation_observed(OWNER)  # for an owner without expectations: nothing to lower
    assert e.pending(OWNER) == (0, 0)


def test_owners_are_independent() -> None:
    e = Expectations()
    e.expect_creations(OWNER, 1)
    assert e.satisfied("default/api")
    e.creation_observed("default/api")
    assert not e.satisfied(OWNER)
