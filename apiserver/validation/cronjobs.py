"""CronJob validation (kubernetes pkg/apis/batch/validation: ValidateCronJobCreate,
ValidateCronJobUpdate): the schedule parses as robfig/cron's standard parser reads it and carries
no TZ=, the time zone is a known IANA name, the concurrency policy is one of three, the counts are
not negative, and the job template is a Job's spec whose selector the server will generate."""

from __future__ import annotations

import re

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import nonnegative, shown
from apiserver.validation.jobs import job_spec_rules
from apiserver.validation.meta import object_meta
from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery.cron import CronError, UnknownTimeZone, load_location, parse_standard

CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
# A Job made from the template is named <cronjob>-<minutes since the epoch>: 11 characters more,
# within a 63-character label.
MAX_NAME_LENGTH = 63 - 11
# One part of an IANA name (https://data.iana.org/time-zones/theory.html#naming), with the
# digits and '+' of the legacy names.
_TIME_ZONE_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")


def schedule(spec: batch_pb2.CronJobSpec, allow_tz: bool, path: str) -> list[FieldError]:
    value = spec.schedule
    if not value:
        return [fields.required(path)]
    errs: list[FieldError] = []
    try:
        parse_standard(value)
    except CronError as e:
        errs.append(fields.invalid(path, value, str(e)))
    if "TZ" in value:
        if not allow_tz:
            errs.append(
                fields.invalid(
                    path, value, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
                )
            )
        elif spec.HasField("time_zone"):
            errs.append(
                fields.invalid(
                    path, value, "cannot use both timeZone field and TZ or CRON_TZ in schedule"
                )
            )
    return errs


def time_zone(spec: batch_pb2.CronJobSpec, path: str) -> list[FieldError]:
    if not spec.HasField("time_zone"):
        return []
    name = spec.time_zone
    if not name:
        return [fields.invalid(path, name, "timeZone must be nil or non-empty string")]
    for part in name.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TIME_ZONE_PART.match(part):
            return [fields.invalid(path, name, f"unknown time zone {name}")]
    errs: list[FieldError] = []
    if name.lower() == "local":
        errs.append(
            fields.invalid(
                path,
                name,
                "timeZone must be an explicit time zone as defined in "
                "https://www.iana.org/time-zones",
            )
        )
    if name != "Local":  # Go's LoadLocation("Local") is the process's zone
        try:
            load_location(name)
        except UnknownTimeZone as e:
            errs.append(fields.invalid(path, name, str(e)))
    return errs


def job_template_spec(template: batch_pb2.JobTemplateSpec, path: str) -> list[FieldError]:
    spec = template.spec
    errs = job_spec_rules(spec, f"{path}.spec")
    if spec.HasField("selector"):
        errs.append(
            fields.invalid(
                f"{path}.spec.selector", shown(spec.selector), "`selector` will be auto-generated"
            )
        )
    if spec.HasField("manual_selector") and spec.manual_selector:
        errs.append(fields.unsupported(f"{path}.spec.manualSelector", True, ("nil", "false")))
    return errs


def _spec(
    spec: batch_pb2.CronJobSpec, old: batch_pb2.CronJobSpec | None, path: str
) -> list[FieldError]:
    # An object stored with TZ= in its schedule (before the rule existed) may keep it.
    errs = schedule(spec, old is not None and "TZ" in old.schedule, f"{path}.schedule")
    if spec.HasField("starting_deadline_seconds"):
        errs += nonnegative(f"{path}.startingDeadlineSeconds", spec.starting_deadline_seconds)
    same_zone = old is not None and (old.HasField("time_zone"), old.time_zone) == (
        spec.HasField("time_zone"),
        spec.time_zone,
    )
    if not same_zone:
        errs += time_zone(spec, f"{path}.timeZone")
    policy = spec.concurrency_policy
    if not policy:
        errs.append(fields.required(f"{path}.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        errs.append(fields.unsupported(f"{path}.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    errs += job_template_spec(spec.job_template, f"{path}.jobTemplate")
    for name, field in (
        ("successful_jobs_history_limit", "successfulJobsHistoryLimit"),
        ("failed_jobs_history_limit", "failedJobsHistoryLimit"),
    ):
        if spec.HasField(name):
            errs += nonnegative(f"{path}.{field}", getattr(spec, name))
    return errs


def cron_job(obj: batch_pb2.CronJob) -> list[FieldError]:
    errs = object_meta(obj.metadata, namespaced=True) + _spec(obj.spec, None, "spec")
    if len(obj.metadata.name) > MAX_NAME_LENGTH:
        errs.append(
            fields.invalid(
                "metadata.name",
                obj.metadata.name,
                f"must be no more than {MAX_NAME_LENGTH} characters",
            )
        )
    return errs


def cron_job_update(new: batch_pb2.CronJob, old: batch_pb2.CronJob) -> list[FieldError]:
    # No name length rule: a CronJob named before it existed may still be updated.
    return object_meta(new.metadata, namespaced=True) + _spec(new.spec, old.spec, "spec")
