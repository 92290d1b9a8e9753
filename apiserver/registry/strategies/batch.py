"""Jobs and CronJobs (kubernetes pkg/registry/batch/)."""

from __future__ import annotations

from typing import Any

from apiserver.defaulting import jobs as job_defaulting
from apiserver.registry.strategies import templates
from apiserver.registry.strategies.base import (
    Strategy,
    clear_status,
    meta_fields,
    update_as_create,
)
from apiserver.validation import jobs as job_validation
from apiserver.validation.metadata_only import metadata_rules
from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery import resources


def _job_fields(obj: batch_pb2.Job) -> dict[str, str]:
    return {**meta_fields(obj), "status.successful": str(obj.status.succeeded)}


def _prepare_job_create(obj: batch_pb2.Job) -> None:
    templates.prepare_create(obj)
    job_defaulting.generate_job_selector(obj)  # needs metadata.uid, which the store has set


_namespaced = metadata_rules(namespaced=True)

STRATEGIES: tuple[Strategy[Any], ...] = (
    Strategy(
        resources.JOB,
        job_validation.job,
        job_validation.job_update,
        _job_fields,
        job_defaulting.job,
        _prepare_job_create,
        frozenset({"status.successful"}),
        prepare_for_update=templates.prepare_update,
    ),
    Strategy(
        resources.CRON_JOB,
        _namespaced,
        update_as_create(_namespaced),
        prepare_for_create=clear_status,
    ),
)
