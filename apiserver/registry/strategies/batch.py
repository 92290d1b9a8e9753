"""Jobs and CronJobs (kubernetes pkg/registry/batch/)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import jobs as job_defaulting
from apiserver.registry.strategies.base import Strategy, clear_status, meta_fields
from apiserver.validation import cronjobs as cron_job_validation
from apiserver.validation import jobs as job_validation
from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery import resources


def _job_fields(obj: batch_pb2.Job) -> dict[str, str]:
    return {**meta_fields(obj), "status.successful": str(obj.status.succeeded)}


def _prepare_job_create(obj: batch_pb2.Job) -> None:
    obj.ClearField("status")
    # managedBy is alpha in 1.31 (the JobManagedBy gate, off by default): dropped.
    obj.spec.ClearField("managed_by")
    job_defaulting.generate_job_selector(obj)  # needs metadata.uid, which the store has set


def _prepare_job_update(new: batch_pb2.Job, old: batch_pb2.Job) -> None:
    if not old.spec.HasField("managed_by"):
        new.spec.ClearField("managed_by")


STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.JOB,
        job_validation.job,
        job_validation.job_update,
        _job_fields,
        job_defaulting.job,
        _prepare_job_create,
        frozenset({"status.successful"}),
        prepare_for_update=_prepare_job_update,
    ),
    Strategy(
        resources.CRON_JOB,
        cron_job_validation.cron_job,
        cron_job_validation.cron_job_update,
        default=job_defaulting.cron_job,
        prepare_for_create=clear_status,
    ),
)
