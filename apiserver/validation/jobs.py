"""Job validation (kubernetes pkg/apis/batch/validation: ValidateJob, ValidateJobUpdate)."""

from __future__ import annotations

from collections.abc import Mapping

from apiserver.defaulting.jobs import (
    JOB_CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_JOB_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
)
from apiserver.validation import fields, template
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable, label_selector, nonnegative, shown
from apiserver.validation.meta import object_meta
from podplane.api.batch.v1 import batch_pb2

COMPLETION_MODES = ("NonIndexed", "Indexed")
JOB_RESTART_POLICIES = ("OnFailure", "Never")
MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000


def _optional_counts(spec: batch_pb2.JobSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    for name, path in (
        ("parallelism", "spec.parallelism"),
        ("completions", "spec.completions"),
        ("active_deadline_seconds", "spec.activeDeadlineSeconds"),
        ("backoff_limit", "spec.backoffLimit"),
        ("ttl_seconds_after_finished", "spec.ttlSecondsAfterFinished"),
    ):
        if spec.HasField(name):
            errs += nonnegative(path, getattr(spec, name))
    return errs


def _completion_mode(spec: batch_pb2.JobSpec) -> list[FieldError]:
    mode = spec.completion_mode
    if mode not in COMPLETION_MODES:
        return [fields.unsupported("spec.completionMode", mode, COMPLETION_MODES)]
    errs: list[FieldError] = []
    if mode == "Indexed":
        if not spec.HasField("completions"):
            errs.append(fields.required("spec.completions", "when completion mode is Indexed"))
        if spec.HasField("parallelism") and spec.parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB:
            errs.append(
                fields.invalid(
                    "spec.parallelism",
                    spec.parallelism,
                    f"must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} "
                    "when completion mode is Indexed",
                )
            )
    return errs


def _has_label(labels: Mapping[str, str], key: str, expected: str) -> list[FieldError]:
    path = f"spec.template.metadata.labels[{key}]"
    if key not in labels:
        return [fields.required(path, f"must be '{expected}'")]
    if labels[key] != expected:
        return [fields.invalid(path, labels[key], f"must be '{expected}'")]
    return []


def _generated_selector(obj: batch_pb2.Job) -> list[FieldError]:
    """Without manualSelector, the selector and the template labels must be the generated ones."""
    spec = obj.spec
    if spec.HasField("manual_selector") and spec.manual_selector:
        return []
    labels = spec.template.metadata.labels
    errs: list[FieldError] = []
    for key, value in (
        (LEGACY_JOB_CONTROLLER_UID_LABEL, obj.metadata.uid),
        (LEGACY_JOB_NAME_LABEL, obj.metadata.name),
        (JOB_CONTROLLER_UID_LABEL, obj.metadata.uid),
        (JOB_NAME_LABEL, obj.metadata.name),
    ):
        errs += _has_label(labels, key, value)
    expected = {JOB_CONTROLLER_UID_LABEL: obj.metadata.uid}
    if spec.selector.match_expressions or dict(spec.selector.match_labels) != expected:
        errs.append(
            fields.invalid("spec.selector", shown(spec.selector), "`selector` not auto-generated")
        )
    return errs


def job(obj: batch_pb2.Job) -> list[FieldError]:
    spec = obj.spec
    errs = object_meta(obj.metadata, namespaced=True) + _optional_counts(spec)
    errs += _completion_mode(spec)
    matches = None
    if not spec.HasField("selector"):
        errs.append(fields.required("spec.selector"))
    else:
        errs += label_selector("spec.selector", spec.selector)
        matches = template.selector_matches(spec.selector, spec.template.metadata.labels)
    errs += _generated_selector(obj)
    if not spec.HasField("template"):
        errs.append(fields.required("spec.template"))
    else:
        errs += template.template_labels_selected("spec.template", spec.template, matches)
        errs += template.pod_template("spec.template", spec.template)
        errs += template.restart_policy("spec.template", spec.template, JOB_RESTART_POLICIES)
    return errs + job_status(obj.status)


def job_update(new: batch_pb2.Job, old: batch_pb2.Job) -> list[FieldError]:
    spec, old_spec = new.spec, old.spec
    errs = job(new)
    errs += immutable("spec.selector", spec.selector, old_spec.selector)
    if spec.template != old_spec.template:
        errs.append(fields.invalid("spec.template", None, "field is immutable"))
    errs += immutable("spec.completionMode", spec.completion_mode, old_spec.completion_mode)
    # An Indexed job is elastic: completions may change together with parallelism.
    elastic = (
        spec.completion_mode == "Indexed"
        and spec.HasField("completions")
        and spec.completions == spec.parallelism
    )
    if not elastic and (spec.HasField("completions"), spec.completions) != (
        old_spec.HasField("completions"),
        old_spec.completions,
    ):
        errs.append(
            fields.invalid(
                "spec.completions",
                spec.completions if spec.HasField("completions") else None,
                "field is immutable",
            )
        )
    return errs


def job_status(status: batch_pb2.JobStatus) -> list[FieldError]:
    errs: list[FieldError] = []
    for name in ("active", "succeeded", "failed"):
        errs += nonnegative(f"status.{name}", getattr(status, name))
    if status.HasField("ready"):
        errs += nonnegative("status.ready", status.ready)
    return errs
