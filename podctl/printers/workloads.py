"""The replication controller, replica set, deployment and job tables, as kubectl's
printReplicationController, printReplicaSet, printDeployment and printJob."""

from __future__ import annotations

from datetime import datetime

from podctl.printers.table import Column, TableSpec, format_labels
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.timeutil import human_age, parse

_WIDE = (
    Column("Containers", wide=True),
    Column("Images", wide=True),
    Column("Selector", wide=True),
)


def format_label_selector(selector: meta_pb2.LabelSelector) -> str:
    """kubectl's metav1.FormatLabelSelector: `app=web,tier in (a,b)`, or <none>."""
    parts: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in selector.match_labels.items()]
    for e in selector.match_expressions:
        values = ",".join(sorted(e.values))
        text = {
            "In": f"{e.key} in ({values})",
            "NotIn": f"{e.key} notin ({values})",
            "Exists": e.key,
            "DoesNotExist": f"!{e.key}",
        }.get(e.operator, e.key)
        parts.append((e.key, text))
    return ",".join(text for _, text in sorted(parts)) or "<none>"


def _containers_images(template: core_pb2.PodTemplateSpec) -> list[str]:
    containers = template.spec.containers
    return [",".join(c.name for c in containers), ",".join(c.image for c in containers)]


def replication_controller_row(rc: core_pb2.ReplicationController, now: datetime) -> list[str]:
    return [
        rc.metadata.name,
        str(rc.spec.replicas),
        str(rc.status.replicas),
        str(rc.status.ready_replicas),
        human_age(rc.metadata.creation_timestamp, now),
        *_containers_images(rc.spec.template),
        format_labels(rc.spec.selector),
    ]


def replica_set_row(rs: apps_pb2.ReplicaSet, now: datetime) -> list[str]:
    return [
        rs.metadata.name,
        str(rs.spec.replicas),
        str(rs.status.replicas),
        str(rs.status.ready_replicas),
        human_age(rs.metadata.creation_timestamp, now),
        *_containers_images(rs.spec.template),
        format_label_selector(rs.spec.selector),
    ]


def deployment_row(d: apps_pb2.Deployment, now: datetime) -> list[str]:
    return [
        d.metadata.name,
        f"{d.status.ready_replicas}/{d.spec.replicas}",
        str(d.status.updated_replicas),
        str(d.status.available_replicas),
        human_age(d.metadata.creation_timestamp, now),
        *_containers_images(d.spec.template),
        format_label_selector(d.spec.selector),
    ]


def job_completions(job: batch_pb2.Job) -> str:
    """`1/1`, or `0/1 of 3` for a job with parallelism but no completion count."""
    succeeded = job.status.succeeded
    if job.spec.HasField("completions"):
        return f"{succeeded}/{job.spec.completions}"
    if job.spec.parallelism > 1:
        return f"{succeeded}/1 of {job.spec.parallelism}"
    return f"{succeeded}/1"


def job_duration(job: batch_pb2.Job, now: datetime) -> str:
    """From start to completion, or to now while running; empty before the job started."""
    if not job.status.start_time:
        return ""
    return human_age(job.status.start_time, parse(job.status.completion_time) or now)


def job_row(job: batch_pb2.Job, now: datetime) -> list[str]:
    return [
        job.metadata.name,
        job_completions(job),
        job_duration(job, now),
        human_age(job.metadata.creation_timestamp, now),
        *_containers_images(job.spec.template),
        format_label_selector(job.spec.selector),
    ]


_REPLICAS = (Column("Name"), Column("Desired"), Column("Current"), Column("Ready"), Column("Age"))

REPLICATION_CONTROLLER_TABLE = TableSpec(columns=_REPLICAS + _WIDE, row=replication_controller_row)
REPLICA_SET_TABLE = TableSpec(columns=_REPLICAS + _WIDE, row=replica_set_row)
DEPLOYMENT_TABLE = TableSpec(
    columns=(
        Column("Name"),
        Column("Ready"),
        Column("Up-to-date"),
        Column("Available"),
        Column("Age"),
        *_WIDE,
    ),
    row=deployment_row,
)
JOB_TABLE = TableSpec(
    columns=(Column("Name"), Column("Completions"), Column("Duration"), Column("Age"), *_WIDE),
    row=job_row,
)
