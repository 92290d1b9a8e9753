"""A Job's policies (kubernetes pkg/apis/batch/validation): the pod failure policy, the success
policy, the pod replacement policy, and the index lists ("1,3-5,7") of succeededIndexes,
status.completedIndexes and status.failedIndexes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown, nonnegative, shown
from podplane.api.batch.v1 import batch_pb2

MAX_POD_FAILURE_POLICY_RULES = 20
MAX_ON_EXIT_CODES_VALUES = 255
MAX_ON_POD_CONDITIONS_PATTERNS = 20
MAX_SUCCESS_POLICY_RULES = 20
MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024

POD_FAILURE_POLICY_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
ON_EXIT_CODES_OPERATORS = ("In", "NotIn")
CONDITION_STATUSES = ("False", "True", "Unknown")
POD_REPLACEMENT_POLICIES = ("Failed", "TerminatingOrFailed")


def too_many(path: str, count: int, limit: int) -> FieldError:
    return FieldError(path, "Too many", count, f"must have at most {limit} items")


def _valid_values(values: tuple[str, ...]) -> str:
    """Go's %q of a []string: ["Count" "FailIndex" ...]."""
    return "valid values: [" + " ".join(f'"{v}"' for v in values) + "]"


def _int32_list(values: list[int]) -> Shown:
    """A []int32 as Go's %#v shows it in a field error: []int32{1, 2}."""
    return Shown("[]int32{" + ", ".join(str(v) for v in values) + "}")


def pod_failure_policy(spec: batch_pb2.JobSpec, path: str) -> list[FieldError]:
    rules = spec.pod_failure_policy.rules
    errs: list[FieldError] = []
    if len(rules) > MAX_POD_FAILURE_POLICY_RULES:
        errs.append(too_many(f"{path}.rules", len(rules), MAX_POD_FAILURE_POLICY_RULES))
    containers = {
        c.name for c in (*spec.template.spec.containers, *spec.template.spec.init_containers)
    }
    for i, rule in enumerate(rules):
        errs += _pod_failure_policy_rule(spec, rule, f"{path}.rules[{i}]", containers)
    return errs


def _pod_failure_policy_rule(
    spec: batch_pb2.JobSpec,
    rule: batch_pb2.PodFailurePolicyRule,
    path: str,
    containers: set[str],
) -> list[FieldError]:
    errs: list[FieldError] = []
    action = f"{path}.action"
    if not rule.action:
        errs.append(fields.required(action, _valid_values(POD_FAILURE_POLICY_ACTIONS)))
    elif rule.action == "FailIndex":
        if not spec.HasField("backoff_limit_per_index"):
            errs.append(
                fields.invalid(action, rule.action, "requires the backoffLimitPerIndex to be set")
            )
    elif rule.action not in POD_FAILURE_POLICY_ACTIONS:
        errs.append(fields.unsupported(action, rule.action, POD_FAILURE_POLICY_ACTIONS))
    on_exit_codes = rule.HasField("on_exit_codes")
    if on_exit_codes:
        errs += _on_exit_codes(rule.on_exit_codes, f"{path}.onExitCodes", containers)
    if rule.on_pod_conditions:
        errs += _on_pod_conditions(rule.on_pod_conditions, f"{path}.onPodConditions")
    if on_exit_codes and rule.on_pod_conditions:
        errs.append(
            fields.invalid(
                path, None, "specifying both OnExitCodes and OnPodConditions is not supported"
            )
        )
    if not on_exit_codes and not rule.on_pod_conditions:
        errs.append(
            fields.invalid(
                path, None, "specifying one of OnExitCodes and OnPodConditions is required"
            )
        )
    return errs


def _on_pod_conditions(
    patterns: Sequence[batch_pb2.PodFailurePolicyOnPodConditionsPattern], path: str
) -> list[FieldError]:
    errs: list[FieldError] = []
    if len(patterns) > MAX_ON_POD_CONDITIONS_PATTERNS:
        errs.append(too_many(path, len(patterns), MAX_ON_POD_CONDITIONS_PATTERNS))
    for j, pattern in enumerate(patterns):
        errs += fields.qualified_name(f"{path}[{j}].type", pattern.type)
        status = f"{path}[{j}].status"
        if not pattern.status:
            errs.append(fields.required(status, _valid_values(CONDITION_STATUSES)))
        elif pattern.status not in CONDITION_STATUSES:
            errs.append(fields.unsupported(status, pattern.status, CONDITION_STATUSES))
    return errs


def _on_exit_codes(
    requirement: batch_pb2.PodFailurePolicyOnExitCodesRequirement,
    path: str,
    containers: set[str],
) -> list[FieldError]:
    errs: list[FieldError] = []
    operator = f"{path}.operator"
    if not requirement.operator:
        errs.append(fields.required(operator, _valid_values(ON_EXIT_CODES_OPERATORS)))
    elif requirement.operator not in ON_EXIT_CODES_OPERATORS:
        errs.append(fields.unsupported(operator, requirement.operator, ON_EXIT_CODES_OPERATORS))
    if requirement.HasField("container_name") and requirement.container_name not in containers:
        errs.append(
            fields.invalid(
                f"{path}.containerName",
                requirement.container_name,
                "must be one of the container or initContainer names in the pod template",
            )
        )
    values = list(requirement.values)
    if not values:
        errs.append(
            fields.invalid(f"{path}.values", _int32_list(values), "at least one value is required")
        )
    elif len(values) > MAX_ON_EXIT_CODES_VALUES:
        errs.append(too_many(f"{path}.values", len(values), MAX_ON_EXIT_CODES_VALUES))
    seen: set[int] = set()
    for j, value in enumerate(values):
        if requirement.operator == "In" and value == 0:
            errs.append(
                fields.invalid(f"{path}.values[{j}]", 0, "must not be 0 for the In operator")
            )
        if value in seen:
            errs.append(fields.duplicate(f"{path}.values[{j}]", value))
        seen.add(value)
    if any(a > b for a, b in itertools.pairwise(values)):
        errs.append(fields.invalid(f"{path}.values", _int32_list(values), "must be ordered"))
    return errs


def success_policy(spec: batch_pb2.JobSpec, path: str) -> list[FieldError]:
    if spec.completion_mode != "Indexed":
        return [
            fields.invalid(path, shown(spec.success_policy), "requires indexed completion mode")
        ]
    rules = spec.success_policy.rules
    errs: list[FieldError] = []
    if not rules:
        errs.append(
            fields.required(
                f"{path}.rules",
                "at least one rules must be specified when the successPolicy is specified",
            )
        )
    if len(rules) > MAX_SUCCESS_POLICY_RULES:
        errs.append(too_many(f"{path}.rules", len(rules), MAX_SUCCESS_POLICY_RULES))
    for i, rule in enumerate(rules):
        errs += _success_policy_rule(spec, rule, f"{path}.rules[{i}]")
    return errs


def _success_policy_rule(
    spec: batch_pb2.JobSpec, rule: batch_pb2.SuccessPolicyRule, path: str
) -> list[FieldError]:
    errs: list[FieldError] = []
    has_indexes, has_count = rule.HasField("succeeded_indexes"), rule.HasField("succeeded_count")
    if not has_indexes and not has_count:
        errs.append(
            fields.required(
                path, "at least one of succeededCount or succeededIndexes must be specified"
            )
        )
    completions = spec.completions
    total = 0
    if has_indexes:
        p = f"{path}.succeededIndexes"
        if len(rule.succeeded_indexes) > MAX_SUCCEEDED_INDEXES_LENGTH:
            errs.append(
                FieldError(
                    p, "Too long", None, f"may not be longer than {MAX_SUCCEEDED_INDEXES_LENGTH}"
                )
            )
        try:
            total = indexes_total(rule.succeeded_indexes, completions)
        except IndexesError as e:
            errs.append(
                fields.invalid(p, rule.succeeded_indexes, f"error parsing succeededIndexes: {e}")
            )
    if has_count:
        p = f"{path}.succeededCount"
        count = rule.succeeded_count
        errs += nonnegative(p, count)
        if count > completions:
            errs.append(
                fields.invalid(
                    p,
                    count,
                    f"must be less than or equal to {completions} "
                    "(the number of specified completions)",
                )
            )
        if has_indexes and count > total:
            errs.append(
                fields.invalid(
                    p,
                    count,
                    f"must be less than or equal to {total} "
                    "(the number of indexes in the specified succeededIndexes field)",
                )
            )
    return errs


def pod_replacement_policy(spec: batch_pb2.JobSpec, path: str) -> list[FieldError]:
    if not spec.HasField("pod_replacement_policy"):
        return []
    policy = spec.pod_replacement_policy
    if spec.HasField("pod_failure_policy"):
        if policy != "Failed":
            return [fields.unsupported(path, policy, ("Failed",))]
    elif policy not in POD_REPLACEMENT_POLICIES:
        return [fields.unsupported(path, policy, POD_REPLACEMENT_POLICIES)]
    return []


class IndexesError(ValueError):
    pass


def indexes_total(text: str, completions: int) -> int:
    """How many indexes a list like "1,3-5,7" holds (validateIndexesFormat); IndexesError when
    it is not increasing intervals below `completions`."""
    if not text:
        return 0
    last: int | None = None
    total = 0
    for interval in text.split(","):
        limits = interval.split("-")
        if len(limits) > 2:
            raise IndexesError(
                f'the fragment "{interval}" violates the requirement that an index interval can '
                "have at most two parts separated by '-'"
            )
        first = _index(limits[0])
        _check_next(limits[0], first, last, completions)
        total, last = total + 1, first
        if len(limits) == 2:
            end = _index(limits[1])
            _check_next(limits[1], end, last, completions)
            total, last = total + end - first, end
    return total


def _check_next(text: str, value: int, last: int | None, completions: int) -> None:
    if value >= completions:
        raise IndexesError(f'too large index: "{text}"')
    if last is not None and last >= value:
        raise IndexesError(f"non-increasing order, previous: {last}, current: {value}")


def _index(text: str) -> int:
    """strconv.ParseInt(text, 10, 32)."""
    stripped = text[1:] if text[:1] in "+-" else text
    if not stripped.isascii() or not stripped.isdigit() or not -(2**31) <= int(text) < 2**31:
        raise IndexesError(f'cannot convert string to integer for index: "{text}"')
    return int(text)
