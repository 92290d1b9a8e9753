"""Jobs and CronJobs (kubernetes pkg/registry/batch/)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import jobs as job_defaulting
from apiserver.defaulting.disabled_features import drop_disabled_template_fields
from apiserver.registry.strategies import templates
from apiserver.registry.strategies.base import Strategy, clear_status, meta_fields
from apiserver.validation import cronjobs as cron_job_validation
from apiserver.validation import jobs as job_validation
from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery import resources


def _job_fields(obj: batch_pb2.Job) -> dict[str, str]:
    return {**meta_fields(obj), "status.successful": str(obj.status.succeeded)}


def _prepare_job_create(obj: batch_pb2.Job) -> None:
    templates.prepare_create(obj)
    # managedBy is alpha in 1.31 (the JobManagedBy gate, off by default): dropped.
    obj.spec.ClearField("managed_by")
    job_defaulting.generate_job_selector(obj)  # needs metadata.uid, which the store has set


def _prepare_job_update(new: batch_pb2.Job, old: batch_pb2.Job) -> None:
    templates.prepare_update(new, old)
    if not old.spec.HasField("managed_by"):
        new.spec.ClearField("managed_by")


def _prepare_cron_job_create(obj: batch_pb2.CronJob) -> None:
    clear_status(obj)
    drop_disabled_template_fields(obj.spec.job_template.spec.template, None)


def _prepare_cron_job_update(new: batch_pb2.CronJob, old: batch_pb2.CronJob) -> None:
    drop_disabled_template_fields(
        new.spec.job_template.spec.template, old.spec.job_template.spec.template
    )


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
        prepare_for_create=_prepare_cron_job_create,
        prepare_for_update=_prepare_cron_job_update,
    ),
)
