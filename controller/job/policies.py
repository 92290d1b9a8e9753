"""The Job's pod failure policy and success policy (kubernetes pkg/controller/job
pod_failure_policy.go, success_policy.go)."""

from __future__ import annotations

from dataclasses import dataclass

from controller.job.intervals import Intervals, parse_indexes, total
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2

FAIL_JOB, FAIL_INDEX, IGNORE, COUNT = "FailJob", "FailIndex", "Ignore", "Count"


@dataclass(frozen=True)
class FailureMatch:
    """What a failed pod means under the policy: the job's failure message (FailJob), whether
    the failure counts towards the backoff limits (not for Ignore), the action that matched."""

    fail_job_message: str | None = None
    counts: bool = True
    action: str | None = None


def _exit_code_matches(
    code: int, requirement: batch_pb2.PodFailurePolicyOnExitCodesRequirement
) -> bool:
    if requirement.operator == "In":
        return code in requirement.values
    if requirement.operator == "NotIn":
        return code not in requirement.values
    return False  # an operator this controller does not know matches nothing


def _matching_container(
    pod: core_pb2.Pod, requirement: batch_pb2.PodFailurePolicyOnExitCodesRequirement
) -> core_pb2.ContainerStatus | None:
    """The first terminated container (app containers, then init containers) whose non-zero
    exit code meets the requirement."""
    for status in (*pod.status.container_statuses, *pod.status.init_container_statuses):
        if not status.state.HasField("terminated"):
            continue
        if requirement.HasField("container_name") and requirement.container_name != status.name:
            continue
        code = status.state.terminated.exit_code
        if code != 0 and _exit_code_matches(code, requirement):
            return status
    return None


def _matching_condition(
    pod: core_pb2.Pod, patterns: list[batch_pb2.PodFailurePolicyOnPodConditionsPattern]
) -> core_pb2.PodCondition | None:
    for condition in pod.status.conditions:
        for pattern in patterns:
            if condition.type == pattern.type and condition.status == pattern.status:
                return condition
    return None


def match_pod_failure_policy(job: batch_pb2.Job, pod: core_pb2.Pod) -> FailureMatch:
    """The first rule that matches the failed pod decides; none: the default (it counts)."""
    if not job.spec.HasField("pod_failure_policy"):
        return FailureMatch()
    for index, rule in enumerate(job.spec.pod_failure_policy.rules):
        if rule.HasField("on_exit_codes"):
            container = _matching_container(pod, rule.on_exit_codes)
            if container is None:
                continue
            message = (
                f"Container {container.name} for pod {pod.metadata.namespace}/"
                f"{pod.metadata.name} failed with exit code "
                f"{container.state.terminated.exit_code} matching {rule.action} rule at index "
                f"{index}"
            )
        elif rule.on_pod_conditions:
            condition = _matching_condition(pod, list(rule.on_pod_conditions))
            if condition is None:
                continue
            message = (
                f"Pod {pod.metadata.namespace}/{pod.metadata.name} has condition "
                f"{condition.type} matching {rule.action} rule at index {index}"
            )
        else:
            continue
        if rule.action == IGNORE:
            return FailureMatch(counts=False, action=IGNORE)
        if rule.action == FAIL_INDEX:
            return FailureMatch(action=FAIL_INDEX)
        if rule.action == COUNT:
            return FailureMatch(action=COUNT)
        if rule.action == FAIL_JOB:
            return FailureMatch(fail_job_message=message, action=FAIL_JOB)
        # An action this controller does not know: the rule is skipped.
    return FailureMatch()


def _covered(rule_indexes: Intervals, succeeded: Intervals) -> int:
    """How many of the rule's indexes have succeeded."""
    count = 0
    for first, last in rule_indexes:
        for s_first, s_last in succeeded:
            count += max(0, min(last, s_last) - max(first, s_first) + 1)
    return count


def match_success_policy(job: batch_pb2.Job, succeeded: Intervals) -> str | None:
    """The SuccessCriteriaMet message ("Matched rules at index N") of the first rule met."""
    if not job.spec.HasField("success_policy") or not succeeded:
        return None
    completions = job.spec.completions
    for index, rule in enumerate(job.spec.success_policy.rules):
        if rule.HasField("succeeded_indexes"):
            required = parse_indexes(rule.succeeded_indexes, completions)
            if not required:
                continue
            covered = _covered(required, succeeded)
            if covered == total(required) or (
                rule.HasField("succeeded_count") and covered >= rule.succeeded_count
            ):
                return f"Matched rules at index {index}"
        elif rule.HasField("succeeded_count"):
            if total(succeeded) >= rule.succeeded_count:
                return f"Matched rules at index {index}"
    return None
