"""Validation of DaemonSets (kubernetes pkg/apis/apps/validation ValidateDaemonSet,
ValidateDaemonSetUpdate, ValidateDaemonSetStatusUpdate and the registry's selector
immutability): a selector that selects the pod template, restartPolicy Always, an update
strategy of RollingUpdate (exactly one of maxUnavailable and maxSurge non-zero) or OnDelete, and
non-negative counts. The template generation, a spec field inside Kubernetes, is the
`deprecated.daemonset.template.generation` annotation its apps/v1 form carries."""

from __future__ import annotations

import re

from apiserver.defaulting.daemonset_prepare import (
    TEMPLATE_GENERATION_ANNOTATION,
    template_generation,
)
from apiserver.validation import fields, generic_rules, template
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable, nonnegative, shown
from apiserver.validation.meta import object_meta
from apiserver.validation.workloads import PERCENT_MSG
from podplane.api.apps.v1 import apps_pb2

ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"
STRATEGY_TYPES = (ROLLING_UPDATE, ON_DELETE)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_PERCENT = re.compile(r"[0-9]+%")


def _template_generation_errors(obj: apps_pb2.DaemonSet) -> list[FieldError]:
    _, problem = template_generation(obj.metadata.annotations)
    if problem is None:
        return []
    path = f"metadata.annotations[{TEMPLATE_GENERATION_ANNOTATION}]"
    return [fields.invalid(path, obj.metadata.annotations[TEMPLATE_GENERATION_ANNOTATION], problem)]


# ---------------------------------------------------------------- rolling update


def int_or_percent_value(value: str) -> int:
    """getIntOrPercentValue: the number, or the percentage's number; 0 for neither."""
    if _INTEGER.fullmatch(value):
        return int(value)
    if _PERCENT.fullmatch(value):
        return int(value[:-1])
    return 0


def _shown_int_or_string(value: str) -> int | str:
    return int(value) if _INTEGER.fullmatch(value) else value


def _positive_int_or_percent(path: str, value: str) -> list[FieldError]:
    """ValidatePositiveIntOrPercent and IsNotMoreThan100Percent."""
    if _INTEGER.fullmatch(value):
        return nonnegative(path, int(value))
    if not _PERCENT.fullmatch(value):
        return [fields.invalid(path, value, PERCENT_MSG)]
    if int(value[:-1]) > 100:
        return [fields.invalid(path, value, "must not be greater than 100%")]
    return []


def rolling_update(path: str, rolling: apps_pb2.RollingUpdateDaemonSet) -> list[FieldError]:
    """ValidateRollingUpdateDaemonSet: each a non-negative number or a percentage up to 100%,
    and exactly one of them non-zero."""
    unavailable, surge = rolling.max_unavailable or "0", rolling.max_surge or "0"
    errs = _positive_int_or_percent(f"{path}.maxUnavailable", unavailable)
    errs += _positive_int_or_percent(f"{path}.maxSurge", surge)
    has_unavailable = int_or_percent_value(unavailable) != 0
    has_surge = int_or_percent_value(surge) != 0
    if has_unavailable and has_surge:
        errs.append(
            fields.invalid(
                f"{path}.maxSurge",
                _shown_int_or_string(surge),
                "may not be set when maxUnavailable is non-zero",
            )
        )
    elif not has_unavailable and not has_surge:
        errs.append(fields.required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return errs


def update_strategy(strategy: apps_pb2.DaemonSetUpdateStrategy) -> list[FieldError]:
    path = "spec.updateStrategy"
    if strategy.type == ON_DELETE:
        return []
    if strategy.type == ROLLING_UPDATE:
        if not strategy.HasField("rolling_update"):
            return [fields.required(f"{path}.rollingUpdate")]
        return rolling_update(f"{path}.rollingUpdate", strategy.rolling_update)
    return [fields.unsupported(path, shown(strategy), STRATEGY_TYPES)]


# ---------------------------------------------------------------- spec and status


def _selector(spec: apps_pb2.DaemonSetSpec) -> list[FieldError]:
    """The selector's own rules, and that it selects the template's labels. Without one it
    selects nothing (LabelSelectorAsSelector(nil)), so the template is not selected."""
    path = "spec.selector"
    errs: list[FieldError] = []
    matches: bool | None = False
    if spec.HasField("selector"):
        errs += generic_rules.label_selector(path, spec.selector)
        matches = template.selector_matches(spec.selector, spec.template.metadata.labels)
    errs += template.template_labels_selected("spec.template", spec.template, matches)
    selector = spec.selector
    if spec.HasField("selector") and not selector.match_labels and not selector.match_expressions:
        errs.append(
            fields.invalid(path, shown(selector), "empty selector is invalid for daemonset")
        )
    return errs


def daemon_set_spec(spec: apps_pb2.DaemonSetSpec) -> list[FieldError]:
    """ValidateDaemonSetSpec."""
    t = spec.template
    errs = _selector(spec)
    errs += template.pod_template("spec.template", t)
    errs += template.restart_policy("spec.template", t, ("Always",))
    if t.spec.HasField("active_deadline_seconds"):
        errs.append(
            fields.forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in DaemonSet is not Supported",
            )
        )
    errs += nonnegative("spec.minReadySeconds", spec.min_ready_seconds)
    errs += update_strategy(spec.update_strategy)
    if spec.HasField("revision_history_limit"):
        errs += nonnegative("spec.revisionHistoryLimit", spec.revision_history_limit)
    return errs


_STATUS_COUNTS = (
    ("current_number_scheduled", "currentNumberScheduled"),
    ("number_misscheduled", "numberMisscheduled"),
    ("desired_number_scheduled", "desiredNumberScheduled"),
    ("number_ready", "numberReady"),
    ("observed_generation", "observedGeneration"),
    ("updated_number_scheduled", "updatedNumberScheduled"),
    ("number_available", "numberAvailable"),
    ("number_unavailable", "numberUnavailable"),
)


def daemon_set_status(status: apps_pb2.DaemonSetStatus) -> list[FieldError]:
    """validateDaemonSetStatus: every count non-negative."""
    errs: list[FieldError] = []
    for name, json_name in _STATUS_COUNTS:
        errs += nonnegative(f"status.{json_name}", getattr(status, name))
    if status.HasField("collision_count"):
        errs += nonnegative("status.collisionCount", status.collision_count)
    return errs


def daemon_set(obj: apps_pb2.DaemonSet) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True) + _template_generation_errors(obj)
    return errs + daemon_set_spec(obj.spec) + daemon_set_status(obj.status)


def daemon_set_update(new: apps_pb2.DaemonSet, old: apps_pb2.DaemonSet) -> list[FieldError]:
    """An update of the spec or of the status: the selector is immutable (apps/v1), and the
    collision count only ever grows."""
    errs = daemon_set(new) + immutable("spec.selector", new.spec.selector, old.spec.selector)
    # IsDecremented: dropping a count that was set counts as decrementing it.
    if old.status.HasField("collision_count") and (
        not new.status.HasField("collision_count")
        or new.status.collision_count < old.status.collision_count
    ):
        errs.append(
            fields.invalid(
                "status.collisionCount", new.status.collision_count, "cannot be decremented"
            )
        )
    return errs
