"""Job validation (kubernetes pkg/apis/batch/validation: ValidateJob, ValidateJobUpdate,
ValidateJobUpdateStatus); the policies' rules are in job_policies."""

from __future__ import annotations

from collections.abc import Mapping

from apiserver.defaulting.jobs import (
    JOB_CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_JOB_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
)
from apiserver.validation import fields, job_policies, job_status, template
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import immutable, label_selector, nonnegative, shown
from apiserver.validation.meta import object_meta
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2

COMPLETION_MODES = ("NonIndexed", "Indexed")
JOB_RESTART_POLICIES = ("OnFailure", "Never")
MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000
MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
HIGH_COMPLETIONS_PARALLELISM = 10_000
HIGH_COMPLETIONS_MAX_FAILED = 10_000


def _optional_counts(spec: batch_pb2.JobSpec, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for name, field in (
        ("parallelism", "parallelism"),
        ("completions", "completions"),
        ("active_deadline_seconds", "activeDeadlineSeconds"),
        ("backoff_limit", "backoffLimit"),
        ("ttl_seconds_after_finished", "ttlSecondsAfterFinished"),
        ("backoff_limit_per_index", "backoffLimitPerIndex"),
        ("max_failed_indexes", "maxFailedIndexes"),
    ):
        if spec.HasField(name):
            errs += nonnegative(f"{path}.{field}", getattr(spec, name))
    if spec.HasField("max_failed_indexes") and not spec.HasField("backoff_limit_per_index"):
        errs.append(
            fields.required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified")
        )
    return errs


def _indexed(spec: batch_pb2.JobSpec, path: str) -> list[FieldError]:
    """The limits of an Indexed job's parallelism and failed indexes."""
    errs: list[FieldError] = []
    if not spec.HasField("completions"):
        errs.append(fields.required(f"{path}.completions", "when completion mode is Indexed"))
    if spec.HasField("parallelism") and spec.parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB:
        errs.append(
            fields.invalid(
                f"{path}.parallelism",
                spec.parallelism,
                f"must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} "
                "when completion mode is Indexed",
            )
        )
    max_failed = spec.max_failed_indexes if spec.HasField("max_failed_indexes") else None
    if max_failed is not None:
        if spec.HasField("completions") and max_failed > spec.completions:
            errs.append(
                fields.invalid(
                    f"{path}.maxFailedIndexes",
                    max_failed,
                    "must be less than or equal to completions",
                )
            )
        if max_failed > MAX_FAILED_INDEXES_FOR_INDEXED_JOB:
            errs.append(
                fields.invalid(
                    f"{path}.maxFailedIndexes",
                    max_failed,
                    f"must be less than or equal to {MAX_FAILED_INDEXES_FOR_INDEXED_JOB}",
                )
            )
    if (
        spec.HasField("completions")
        and spec.completions > COMPLETIONS_SOFT_LIMIT
        and spec.HasField("backoff_limit_per_index")
    ):
        high = (
            f"when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit "
            "per index"
        )
        if max_failed is None:
            errs.append(
                fields.required(
                    f"{path}.maxFailedIndexes",
                    f"must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}",
                )
            )
        if spec.HasField("parallelism") and spec.parallelism > HIGH_COMPLETIONS_PARALLELISM:
            errs.append(
                fields.invalid(
                    f"{path}.parallelism",
                    spec.parallelism,
                    f"must be less than or equal to {HIGH_COMPLETIONS_PARALLELISM} {high}",
                )
            )
        if max_failed is not None and max_failed > HIGH_COMPLETIONS_MAX_FAILED:
            errs.append(
                fields.invalid(
                    f"{path}.maxFailedIndexes",
                    max_failed,
                    f"must be less than or equal to {HIGH_COMPLETIONS_MAX_FAILED} {high}",
                )
            )
    return errs


def _completion_mode(spec: batch_pb2.JobSpec, path: str) -> list[FieldError]:
    mode = spec.completion_mode
    errs: list[FieldError] = []
    # Unset (a CronJob's template: only Jobs are defaulted) is NonIndexed.
    if mode and mode not in COMPLETION_MODES:
        errs.append(fields.unsupported(f"{path}.completionMode", mode, COMPLETION_MODES))
    if mode == "Indexed":
        errs += _indexed(spec, path)
    else:
        for name, field in (
            ("backoff_limit_per_index", "backoffLimitPerIndex"),
            ("max_failed_indexes", "maxFailedIndexes"),
        ):
            if spec.HasField(name):
                errs.append(
                    fields.invalid(
                        f"{path}.{field}", getattr(spec, name), "requires indexed completion mode"
                    )
                )
    return errs


def job_spec_rules(spec: batch_pb2.JobSpec, path: str) -> list[FieldError]:
    """What a Job's spec and a CronJob's job template share (validateJobSpec)."""
    errs = _optional_counts(spec, path) + _completion_mode(spec, path)
    if spec.HasField("pod_failure_policy"):
        errs += job_policies.pod_failure_policy(spec, f"{path}.podFailurePolicy")
    if spec.HasField("success_policy"):
        errs += job_policies.success_policy(spec, f"{path}.successPolicy")
    errs += job_policies.pod_replacement_policy(spec, f"{path}.podReplacementPolicy")
    if spec.HasField("template"):
        errs += template.pod_template(f"{path}.template", spec.template)
    errs += template.restart_policy(f"{path}.template", spec.template, JOB_RESTART_POLICIES)
    policy = spec.template.spec.restart_policy
    if spec.HasField("pod_failure_policy") and policy == "OnFailure":
        errs.append(
            fields.invalid(
                f"{path}.template.spec.restartPolicy",
                policy,
                'only "Never" is supported when podFailurePolicy is specified',
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


def _indexed_hostnames(obj: batch_pb2.Job) -> list[FieldError]:
    """An Indexed job's pods are named <job>-<index> as hostnames: the largest must be a label."""
    spec = obj.spec
    if spec.completion_mode != "Indexed" or spec.completions <= 0 or not obj.metadata.name:
        return []
    hostname = f"{obj.metadata.name}-{spec.completions - 1}"
    if fields.dns1123_label("", hostname):
        return [
            fields.invalid(
                "metadata.name",
                obj.metadata.name,
                f"will not able to create pod with invalid DNS label: {hostname}",
            )
        ]
    return []


def job(obj: batch_pb2.Job) -> list[FieldError]:
    spec = obj.spec
    errs = object_meta(obj.metadata, namespaced=True) + _generated_selector(obj)
    errs += job_spec_rules(spec, "spec")
    matches = None
    if not spec.HasField("selector"):
        errs.append(fields.required("spec.selector"))
    else:
        errs += label_selector("spec.selector", spec.selector)
        matches = template.selector_matches(spec.selector, spec.template.metadata.labels)
    if not spec.HasField("template"):
        errs.append(fields.required("spec.template"))
    else:
        errs += template.template_labels_selected("spec.template", spec.template, matches)
    errs += _indexed_hostnames(obj)
    return errs + job_status.job_status(obj)


def _scheduling_directives_as(
    old: core_pb2.PodTemplateSpec, new: core_pb2.PodTemplateSpec
) -> core_pb2.PodTemplateSpec:
    """The old template with the new one's scheduling directives, which a suspended job that
    never started may change (Kueue's way of placing a job: validatePodTemplateUpdate)."""
    out = core_pb2.PodTemplateSpec()
    out.CopyFrom(old)
    spec = out.spec
    if new.spec.HasField("affinity"):
        spec.affinity.node_affinity.CopyFrom(new.spec.affinity.node_affinity)
        if not new.spec.affinity.HasField("node_affinity"):
            spec.affinity.ClearField("node_affinity")
    elif spec.HasField("affinity"):
        spec.affinity.ClearField("node_affinity")
        if spec.affinity == core_pb2.Affinity():
            spec.ClearField("affinity")
    spec.node_selector.clear()
    spec.node_selector.update(new.spec.node_selector)
    del spec.tolerations[:]
    spec.tolerations.extend(new.spec.tolerations)
    del spec.scheduling_gates[:]
    spec.scheduling_gates.extend(new.spec.scheduling_gates)
    for field in ("annotations", "labels"):
        target = getattr(out.metadata, field)
        target.clear()
        target.update(getattr(new.metadata, field))
    return out


def job_update(new: batch_pb2.Job, old: batch_pb2.Job) -> list[FieldError]:
    spec, old_spec = new.spec, old.spec
    errs = job(new)
    errs += job_status.job_status_update(new, old)
    errs += immutable("spec.selector", spec.selector, old_spec.selector)
    old_template = old_spec.template
    if old_spec.suspend and not old.status.start_time:
        old_template = _scheduling_directives_as(old_template, spec.template)
    if spec.template != old_template:
        errs.append(fields.invalid("spec.template", None, "field is immutable"))
    errs += immutable("spec.completionMode", spec.completion_mode, old_spec.completion_mode)
    errs += _completions_update(spec, old_spec)
    for name, path in (
        ("pod_failure_policy", "spec.podFailurePolicy"),
        ("backoff_limit_per_index", "spec.backoffLimitPerIndex"),
        ("success_policy", "spec.successPolicy"),
        ("managed_by", "spec.managedBy"),
    ):
        before = getattr(old_spec, name) if old_spec.HasField(name) else None
        after = getattr(spec, name) if spec.HasField(name) else None
        errs += immutable(path, after, before)
    return errs


def _completions_update(spec: batch_pb2.JobSpec, old_spec: batch_pb2.JobSpec) -> list[FieldError]:
    """completions is immutable, but an Indexed job is elastic: it may change together with
    parallelism (validateCompletions)."""
    new = spec.completions if spec.HasField("completions") else None
    old = old_spec.completions if old_spec.HasField("completions") else None
    if new == old:
        return []
    if spec.completion_mode != "Indexed":
        return [fields.invalid("spec.completions", new, "field is immutable")]
    if new is not None and new != spec.parallelism:
        return [
            fields.invalid(
                "spec.completions", new, "can only be modified in tandem with spec.parallelism"
            )
        ]
    return []
