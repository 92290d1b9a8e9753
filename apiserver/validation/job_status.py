"""A Job's status rules (validateJobStatus, ValidateJobStatusUpdate as Kubernetes 1.31 runs them,
the JobManagedBy gate off): counts are not negative, uncounted pods are listed once, the index
lists parse, and the interim conditions (SuccessCriteriaMet, FailureTarget) are consistent with
the terminal ones (Complete, Failed)."""

from __future__ import annotations

from apiserver.validation import fields, job_policies
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import nonnegative
from podplane.api.batch.v1 import batch_pb2

COMPLETE, FAILED = "Complete", "Failed"
FAILURE_TARGET, SUCCESS_CRITERIA_MET = "FailureTarget", "SuccessCriteriaMet"


def condition_true(status: batch_pb2.JobStatus, type_: str) -> bool:
    return any(c.type == type_ and c.status == "True" for c in status.conditions)


def _uncounted(status: batch_pb2.JobStatus) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    uncounted = status.uncounted_terminated_pods
    for field in ("succeeded", "failed"):
        for i, uid in enumerate(getattr(uncounted, field)):
            path = f"status.uncountedTerminatedPods.{field}[{i}]"
            if not uid:
                errs.append(fields.invalid(path, uid, "must not be empty"))
            elif uid in seen:
                errs.append(fields.duplicate(path, uid))
            else:
                seen.add(uid)
    return errs


def _index_lists(job: batch_pb2.Job) -> list[FieldError]:
    spec, status = job.spec, job.status
    errs: list[FieldError] = []
    if not spec.HasField("completions"):
        return errs
    for name, field, present in (
        ("completed_indexes", "completedIndexes", True),
        ("failed_indexes", "failedIndexes", status.HasField("failed_indexes")),
    ):
        if not present:
            continue
        value = getattr(status, name)
        try:
            job_policies.indexes_total(value, spec.completions)
        except job_policies.IndexesError as e:
            errs.append(fields.invalid(f"status.{field}", value, f"error parsing {field}: {e}"))
    return errs


def _conditions(job: batch_pb2.Job) -> list[FieldError]:
    status = job.status
    met = condition_true(status, SUCCESS_CRITERIA_MET)
    errs: list[FieldError] = []

    def refuse(detail: str) -> None:
        errs.append(fields.invalid("status.conditions", None, detail))

    if met and condition_true(status, FAILED):
        refuse("cannot set SuccessCriteriaMet=True and Failed=true conditions")
    if met and condition_true(status, FAILURE_TARGET):
        refuse("cannot set SuccessCriteriaMet=True and FailureTarget=true conditions")
    if job.spec.HasField("success_policy") and not met and condition_true(status, COMPLETE):
        refuse("cannot set Complete=True for Job with SuccessPolicy unless SuccessCriteriaMet=True")
    return errs


def job_status(job: batch_pb2.Job) -> list[FieldError]:
    status = job.status
    errs: list[FieldError] = []
    for name in ("active", "succeeded", "failed"):
        errs += nonnegative(f"status.{name}", getattr(status, name))
    for name in ("ready", "terminating"):
        if status.HasField(name):
            errs += nonnegative(f"status.{name}", getattr(status, name))
    return errs + _uncounted(status) + _index_lists(job) + _conditions(job)


def job_status_update(new: batch_pb2.Job, old: batch_pb2.Job) -> list[FieldError]:
    errs: list[FieldError] = []
    if condition_true(old.status, SUCCESS_CRITERIA_MET) and not condition_true(
        new.status, SUCCESS_CRITERIA_MET
    ):
        errs.append(
            fields.invalid(
                "status.conditions", None, "cannot disable the SuccessCriteriaMet=True condition"
            )
        )
    if (
        condition_true(old.status, COMPLETE)
        and not condition_true(old.status, SUCCESS_CRITERIA_MET)
        and condition_true(new.status, SUCCESS_CRITERIA_MET)
    ):
        errs.append(
            fields.invalid(
                "status.conditions",
                None,
                "cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions",
            )
        )
    return errs
