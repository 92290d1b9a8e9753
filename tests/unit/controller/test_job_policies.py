"""The Job's policies as the controller reads them: index lists, the pod failure policy's rules
against failed pods (exit codes, pod conditions such as DisruptionTarget), the success policy,
and an Indexed job's pending, duplicated and failed indexes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from controller.job import indexes, intervals
from controller.job.policies import FailureMatch, match_pod_failure_policy, match_success_policy
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest

_uids = itertools.count()


def job(**spec: Any) -> batch_pb2.Job:
    obj = manifest.from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "pi", "namespace": "default", "uid": "uid-pi"},
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "initContainers": [{"name": "setup", "image": "busybox"}],
                        "containers": [
                            {"name": "main", "image": "busybox"},
                            {"name": "side", "image": "busybox"},
                        ],
                    }
                },
                **spec,
            },
        },
        batch_pb2.Job,
    )
    assert isinstance(obj, batch_pb2.Job)
    return obj


def failed_pod(
    exits: dict[str, int] | None = None,
    init_exits: dict[str, int] | None = None,
    conditions: dict[str, str] | None = None,
    *,
    index: int | None = None,
    phase: str = "Failed",
    failures: int | None = None,
) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.name, p.metadata.namespace = f"pi-{next(_uids)}", "default"
    p.metadata.uid = f"uid-{p.metadata.name}"
    p.metadata.finalizers.append("batch.kubernetes.io/job-tracking")
    p.status.phase = phase
    for name, code in (exits or {}).items():
        p.status.container_statuses.add(name=name).state.terminated.exit_code = code
    for name, code in (init_exits or {}).items():
        p.status.init_container_statuses.add(name=name).state.terminated.exit_code = code
    for type_, status in (conditions or {}).items():
        p.status.conditions.add(type=type_, status=status)
    if index is not None:
        p.metadata.annotations["batch.kubernetes.io/job-completion-index"] = str(index)
    if failures is not None:
        p.metadata.annotations["batch.kubernetes.io/job-index-failure-count"] = str(failures)
    return p


# ---------------------------------------------------------------- index lists


@pytest.mark.parametrize(
    "text,completions,parsed,written",
    [
        ("", 5, [], ""),
        ("1,3-5,7", 10, [(1, 1), (3, 5), (7, 7)], "1,3-5,7"),
        ("0,1", 5, [(0, 1)], "0,1"),
        ("0-2,3", 5, [(0, 3)], "0-3"),
        ("2-9", 5, [(2, 4)], "2-4"),  # cut at completions
        ("1,x,3", 5, [(1, 1), (3, 3)], "1,3"),  # a corrupted part is skipped
    ],
)
def test_index_lists(
    text: str, completions: int, parsed: intervals.Intervals, written: str
) -> None:
    assert intervals.parse_indexes(text, completions) == parsed
    assert intervals.text(parsed) == written


def test_interval_arithmetic() -> None:
    assert intervals.with_indexes([(1, 2)], [5, 3, 0]) == [(0, 3), (5, 5)]
    assert intervals.merge([(0, 1)], [(3, 4)]) == [(0, 1), (3, 4)]
    assert intervals.total([(0, 3), (5, 5)]) == 5
    assert intervals.has([(0, 3)], 3) and not intervals.has([(0, 3)], 4)


# ---------------------------------------------------------------- pod failure policy


def policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"podFailurePolicy": {"rules": list(rules)}}


def on_exit(action: str, operator: str, values: list[int], **more: Any) -> dict[str, Any]:
    return {"action": action, "onExitCodes": {"operator": operator, "values": values, **more}}


def on_condition(action: str, type_: str, status: str = "True") -> dict[str, Any]:
    return {"action": action, "onPodConditions": [{"type": type_, "status": status}]}


@pytest.mark.parametrize(
    "rules,pod,expected",
    [
        ([], failed_pod({"main": 1}), FailureMatch()),
        (
            [on_exit("FailJob", "In", [42])],
            failed_pod({"main": 42}),
            FailureMatch(
                "Container main for pod default/{name} failed with exit code 42 matching FailJob "
                "rule at index 0",
                True,
                "FailJob",
            ),
        ),
        ([on_exit("FailJob", "In", [42])], failed_pod({"main": 1}), FailureMatch()),
        (
            [on_exit("Ignore", "NotIn", [1, 2])],
            failed_pod({"main": 0, "side": 3}),  # exit code 0 never matches
            FailureMatch(None, False, "Ignore"),
        ),
        ([on_exit("Ignore", "NotIn", [1, 2])], failed_pod({"main": 2}), FailureMatch()),
        (
            [on_exit("Count", "In", [5], containerName="side")],
            failed_pod({"main": 5}),  # another container's exit code
            FailureMatch(),
        ),
        (
            [on_exit("Count", "In", [5], containerName="setup")],
            failed_pod(init_exits={"setup": 5}),
            FailureMatch(None, True, "Count"),
        ),
        (
            [on_condition("Ignore", "DisruptionTarget")],
            failed_pod({"main": 137}, conditions={"DisruptionTarget": "True"}),
            FailureMatch(None, False, "Ignore"),
        ),
        (
            [on_condition("Ignore", "DisruptionTarget")],
            failed_pod({"main": 137}, conditions={"DisruptionTarget": "False"}),
            FailureMatch(),
        ),
        (
            [on_condition("FailJob", "ConfigIssue")],
            failed_pod(conditions={"ConfigIssue": "True"}),
            FailureMatch(
                "Pod default/{name} has condition ConfigIssue matching FailJob rule at index 0",
                True,
                "FailJob",
            ),
        ),
        (
            [on_exit("FailIndex", "In", [3]), on_exit("FailJob", "In", [3])],
            failed_pod({"main": 3}),  # the first matching rule decides
            FailureMatch(None, True, "FailIndex"),
        ),
        (
            [on_exit("Explode", "In", [3]), on_exit("Ignore", "In", [3])],
            failed_pod({"main": 3}),  # an unknown action is skipped
            FailureMatch(None, False, "Ignore"),
        ),
    ],
)
def test_pod_failure_policy_rules(
    rules: list[dict[str, Any]], pod: core_pb2.Pod, expected: FailureMatch
) -> None:
    match = match_pod_failure_policy(job(**policy(*rules)), pod)
    message = expected.fail_job_message
    if message is not None:
        expected = FailureMatch(message.format(name=pod.metadata.name), True, expected.action)
    assert match == expected


# ---------------------------------------------------------------- success policy


@pytest.mark.parametrize(
    "rules,succeeded,expected",
    [
        ([{"succeededIndexes": "0,2"}], [(0, 0)], None),
        ([{"succeededIndexes": "0,2"}], [(0, 0), (2, 3)], "Matched rules at index 0"),
        ([{"succeededCount": 2}], [(4, 4)], None),
        ([{"succeededCount": 2}], [(4, 5)], "Matched rules at index 0"),
        (
            [{"succeededIndexes": "0-3", "succeededCount": 2}],
            [(3, 5)],  # only 3 is among 0-3
            None,
        ),
        (
            [{"succeededIndexes": "0-3", "succeededCount": 2}, {"succeededCount": 3}],
            [(3, 5)],
            "Matched rules at index 1",
        ),
        ([{"succeededCount": 1}], [], None),
    ],
)
def test_success_policy(
    rules: list[dict[str, Any]], succeeded: intervals.Intervals, expected: str | None
) -> None:
    j = job(completionMode="Indexed", completions=6, successPolicy={"rules": rules})
    assert match_success_policy(j, succeeded) == expected


# ---------------------------------------------------------------- indexed jobs


def running_pod(index: int | None, ready: bool = False) -> core_pb2.Pod:
    p = failed_pod(index=index, phase="Running")
    if ready:
        p.status.conditions.add(type="Ready", status="True")
    return p


def test_first_pending_indexes() -> None:
    j = job(completionMode="Indexed", completions=6)
    active = [running_pod(1), running_pod(4)]
    assert indexes.first_pending_indexes(j, active, active, [(0, 0)], None, 10) == [2, 3, 5]
    assert indexes.first_pending_indexes(j, active, active, [(0, 0)], [(2, 2)], 1) == [3]
    # A terminating pod still holds its index when only failed pods are replaced.
    going = running_pod(2)
    going.metadata.deletion_timestamp = "2030-01-01T00:00:00Z"
    assert indexes.first_pending_indexes(j, [going], [], [], None, 3) == [0, 1, 2]
    j.spec.pod_replacement_policy = "Failed"
    assert indexes.first_pending_indexes(j, [going], [], [], None, 3) == [0, 1, 3]


def test_duplicated_and_invalid_indexes_are_removed() -> None:
    ready, waiting = running_pod(1, ready=True), running_pod(1)
    stray, too_big = running_pod(None), running_pod(9)
    remove, keep = indexes.duplicated_for_removal(
        [ready, waiting, stray, too_big, running_pod(0)], 3
    )
    assert {p.metadata.uid for p in remove} == {
        waiting.metadata.uid,
        stray.metadata.uid,
        too_big.metadata.uid,
    }
    assert ready in keep


def test_indexes_fail_at_the_backoff_limit_per_index_or_a_fail_index_rule() -> None:
    j = job(
        completionMode="Indexed",
        completions=4,
        backoffLimitPerIndex=1,
        **policy(on_exit("FailIndex", "In", [7]), on_exit("Ignore", "In", [9])),
    )
    first = failed_pod({"main": 1}, index=0, failures=0)  # its first failure: retried
    second = failed_pod({"main": 1}, index=1, failures=1)  # the limit reached
    fail_index = failed_pod({"main": 7}, index=2, failures=0)
    ignored = failed_pod({"main": 9}, index=3, failures=1)
    assert indexes.failed_indexes(j, [first, second, fail_index, ignored]) == [(1, 2)]
    assert indexes.new_index_failure_counts(j, first) == (1, 0)
    assert indexes.new_index_failure_counts(j, ignored) == (1, 1)
    assert indexes.new_index_failure_counts(j, None) == (0, 0)
    # The failed pod of an index without a pod waits for its replacement.
    delayed = indexes.delayed_deletion_per_index(j, [first, second], [], [], [(1, 1)], set())
    assert delayed == {0: first}
