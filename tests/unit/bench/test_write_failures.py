"""A benchmark whose measured writes fail ends with an error naming why, never with a figure of
0/s; an overloaded apiserver's answers of load are figures of the overload benchmark, not
failures."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.apiserver.overload_cell import check_overloaded_writes
from bench.common.failures import WritesFailed, check_writes

REFUSED = 'pods "p" is forbidden: serviceaccount "default" not found'


def test_writes_that_all_succeeded_pass() -> None:
    check_writes("1 clients, creates", 400, Counter(), {})


def test_a_failed_write_fails_the_run_with_its_code_and_message() -> None:
    with pytest.raises(WritesFailed) as failed:
        check_writes(
            "1 clients, creates",
            0,
            Counter({"PERMISSION_DENIED": 12}),
            {"PERMISSION_DENIED": REFUSED},
        )
    assert "12 of 12 failed" in str(failed.value)
    assert f"PERMISSION_DENIED: {REFUSED}" in str(failed.value)


def test_a_cell_without_a_write_fails_the_run() -> None:
    with pytest.raises(WritesFailed, match="none was made"):
        check_writes("1 clients, updates", 0, Counter(), {})


@pytest.mark.parametrize(
    ("errors", "fails"),
    [
        (Counter({"DEADLINE_EXCEEDED": 3, "UNAVAILABLE": 1, "RESOURCE_EXHAUSTED": 2}), False),
        (Counter({"PERMISSION_DENIED": 1}), True),
        (Counter({"DEADLINE_EXCEEDED": 3, "INVALID_ARGUMENT": 1}), True),
    ],
)
def test_overload_tolerates_only_the_errors_of_load(errors: Counter[str], fails: bool) -> None:
    if fails:
        with pytest.raises(WritesFailed):
            check_overloaded_writes("apf-800: creates", 100, errors, {})
    else:
        check_overloaded_writes("apf-800: creates", 100, errors, {})
