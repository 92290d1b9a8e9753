"""Validation of PodDisruptionBudgets (kubernetes pkg/apis/policy/validation): minAvailable or
maxUnavailable, each a non-negative integer or a percentage up to 100%; a valid label selector;
a known unhealthyPodEvictionPolicy; non-negative counts and valid conditions in the status."""

from __future__ import annotations

import re

from apiserver.validation import conditions, fields, generic_rules
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown, nonnegative, shown
from apiserver.validation.meta import object_meta
from apiserver.validation.workloads import PERCENT_MSG
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery.disruption import UNHEALTHY_POD_EVICTION_POLICIES

_INTEGER = re.compile(r"^-?[0-9]+$")
_PERCENT = re.compile(r"^[0-9]+%$")
BOTH_SET = "minAvailable and maxUnavailable cannot be both set"


def _go_int_or_string(value: str) -> Shown | int:
    """An IntOrString as Kubernetes' field errors print it (%#v of the struct for a string)."""
    if _INTEGER.match(value):
        return int(value)
    return Shown(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{fields.go_quote(value)}}}")


def int_or_percent(path: str, value: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent and IsNotMoreThan100Percent."""
    if _INTEGER.match(value):
        return nonnegative(path, int(value))
    if not _PERCENT.match(value):
        return [fields.invalid(path, _go_int_or_string(value), PERCENT_MSG)]
    if int(value[:-1]) > 100:
        return [fields.invalid(path, _go_int_or_string(value), "must not be greater than 100%")]
    return []


def _label_values_invalid(selector: meta_pb2.LabelSelector) -> bool:
    return any(
        fields.label_value("", value) for e in selector.match_expressions for value in e.values
    )


def label_selector(
    path: str, selector: meta_pb2.LabelSelector, *, allow_invalid_values: bool
) -> list[FieldError]:
    """ValidateLabelSelector, whose expressions' values must be label values unless the stored
    object already had invalid ones (AllowInvalidLabelValueInSelector)."""
    errs = generic_rules.label_selector(path, selector)
    if not allow_invalid_values:
        for i, e in enumerate(selector.match_expressions):
            for j, value in enumerate(e.values):
                errs += fields.label_value(f"{path}.matchExpressions[{i}].values[{j}]", value)
    return errs


def spec(
    s: policy_pb2.PodDisruptionBudgetSpec, *, allow_invalid_values: bool = False
) -> list[FieldError]:
    """ValidatePodDisruptionBudgetSpec."""
    errs: list[FieldError] = []
    if s.HasField("min_available") and s.HasField("max_unavailable"):
        errs.append(fields.invalid("spec", shown(s), BOTH_SET))
    if s.HasField("min_available"):
        errs += int_or_percent("spec.minAvailable", s.min_available)
    if s.HasField("max_unavailable"):
        errs += int_or_percent("spec.maxUnavailable", s.max_unavailable)
    if s.HasField("selector"):
        errs += label_selector(
            "spec.selector", s.selector, allow_invalid_values=allow_invalid_values
        )
    if (
        s.HasField("unhealthy_pod_eviction_policy")
        and s.unhealthy_pod_eviction_policy not in UNHEALTHY_POD_EVICTION_POLICIES
    ):
        errs.append(
            fields.unsupported(
                "spec.unhealthyPodEvictionPolicy",
                s.unhealthy_pod_eviction_policy,
                UNHEALTHY_POD_EVICTION_POLICIES,
            )
        )
    return errs


def status(s: policy_pb2.PodDisruptionBudgetStatus) -> list[FieldError]:
    """ValidatePodDisruptionBudgetStatusUpdate, for policy/v1."""
    errs = conditions.conditions("status.conditions", s.conditions)
    for name, value in (
        ("disruptionsAllowed", s.disruptions_allowed),
        ("currentHealthy", s.current_healthy),
        ("desiredHealthy", s.desired_healthy),
        ("expectedPods", s.expected_pods),
    ):
        errs += nonnegative(f"status.{name}", value)
    return errs


def pod_disruption_budget(obj: policy_pb2.PodDisruptionBudget) -> list[FieldError]:
    return object_meta(obj.metadata, namespaced=True) + spec(obj.spec)


def pod_disruption_budget_update(
    new: policy_pb2.PodDisruptionBudget, old: policy_pb2.PodDisruptionBudget
) -> list[FieldError]:
    """An update of the spec (every field may change) or of the status (validated as such)."""
    allow = old.spec.HasField("selector") and _label_values_invalid(old.spec.selector)
    return (
        object_meta(new.metadata, namespaced=True)
        + spec(new.spec, allow_invalid_values=allow)
        + status(new.status)
    )
