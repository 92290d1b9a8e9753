"""A CronJob's Jobs (kubernetes pkg/controller/cronjob/utils.go): the Job made for a scheduled
time, which Jobs a CronJob controls, when one has finished, and which go first when the history
is trimmed."""

from __future__ import annotations

from datetime import datetime

from controller.cronjob.schedule import job_name, scheduled_timestamp
from controller.framework.controller_ref import controller_of, new_controller_ref
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources, timeutil

SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
COMPLETE, FAILED = "Complete", "Failed"


def controls(cron_job: batch_pb2.CronJob, job: batch_pb2.Job) -> bool:
    """The Job's controller reference names this CronJob (getJobsToBeReconciled: by name, so a
    Job whose labels no longer match the template is still the CronJob's)."""
    ref = controller_of(job)
    return (
        ref is not None
        and ref.kind == resources.CRON_JOB.kind
        and ref.name == cron_job.metadata.name
        and job.metadata.namespace == cron_job.metadata.namespace
    )


def finished_condition(job: batch_pb2.Job) -> str | None:
    """Complete or Failed once the Job has finished (getFinishedStatus)."""
    for c in job.status.conditions:
        if c.type in (COMPLETE, FAILED) and c.status == "True":
            return c.type
    return None


def job_from_template(cron_job: batch_pb2.CronJob, scheduled: datetime) -> batch_pb2.Job:
    """getJobFromTemplate2: the template's labels, annotations and spec, a name fixed by the
    scheduled time, the scheduled-timestamp annotation and the CronJob as controller."""
    template = cron_job.spec.job_template
    job = batch_pb2.Job(api_version=resources.JOB.api_version, kind=resources.JOB.kind)
    meta = job.metadata
    meta.name = job_name(cron_job, scheduled)
    meta.namespace = cron_job.metadata.namespace
    meta.labels.update(template.metadata.labels)
    meta.annotations.update(template.metadata.annotations)
    meta.annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = scheduled_timestamp(cron_job, scheduled)
    meta.owner_references.append(new_controller_ref(cron_job, resources.CRON_JOB))
    job.spec.CopyFrom(template.spec)
    return job


def reference(job: batch_pb2.Job) -> core_pb2.ObjectReference:
    """The entry of status.active for a Job (reference.GetReference)."""
    return core_pb2.ObjectReference(
        kind=resources.JOB.kind,
        namespace=job.metadata.namespace,
        name=job.metadata.name,
        uid=job.metadata.uid,
        api_version=resources.JOB.api_version,
        resource_version=job.metadata.resource_version,
    )


def in_active_list(cron_job: batch_pb2.CronJob, uid: str) -> bool:
    return any(ref.uid == uid for ref in cron_job.status.active)


def remove_from_active_list(cron_job: batch_pb2.CronJob, uid: str) -> None:
    keep = [ref for ref in cron_job.status.active if ref.uid != uid]
    del cron_job.status.active[:]
    cron_job.status.active.extend(keep)


def oldest_first(jobs: list[batch_pb2.Job]) -> list[batch_pb2.Job]:
    """byJobStartTime: by start time, those without one last, then by name."""

    def key(job: batch_pb2.Job) -> tuple[bool, float, str]:
        started = timeutil.parse(job.status.start_time)
        return (started is None, started.timestamp() if started else 0.0, job.metadata.name)

    return sorted(jobs, key=key)
