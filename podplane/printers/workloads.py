"""The replication controller, replica set, deployment and job tables, as
printReplicationController, printReplicaSet, printDeployment and printJob."""

from __future__ import annotations

from datetime import datetime

from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age, parse
from podplane.printers.labels import format_label_selector, format_labels, label_selector_string
from podplane.printers.spec import (
    CONTAINERS_DOC,
    IMAGES_DOC,
    Cell,
    Column,
    TableSpec,
    age_column,
    name_column,
)

_REPLICAS_DOC = (
    "Replicas is the number of desired replicas. This is a pointer to distinguish "
    "between explicit zero and unspecified. Defaults to 1. More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller"
)
_OBSERVED_REPLICAS_DOC = (
    "Replicas is the most recently observed number of replicas. More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/"
    "replicationcontroller"
)
_WHAT_IS_AN_RC = "#what-is-a-replicationcontroller"


def containers_images(template: core_pb2.PodTemplateSpec) -> list[Cell]:
    """layoutContainerCells: the containers' names and images, comma-separated."""
    containers = template.spec.containers
    return [",".join(c.name for c in containers), ",".join(c.image for c in containers)]


def replication_controller_row(rc: core_pb2.ReplicationController, now: datetime) -> list[Cell]:
    return [
        rc.metadata.name,
        rc.spec.replicas,
        rc.status.replicas,
        rc.status.ready_replicas,
        human_age(rc.metadata.creation_timestamp, now),
        *containers_images(rc.spec.template),
        format_labels(rc.spec.selector),
    ]


def replica_set_row(rs: apps_pb2.ReplicaSet, now: datetime) -> list[Cell]:
    return [
        rs.metadata.name,
        rs.spec.replicas,
        rs.status.replicas,
        rs.status.ready_replicas,
        human_age(rs.metadata.creation_timestamp, now),
        *containers_images(rs.spec.template),
        format_label_selector(rs.spec.selector),
    ]


def deployment_row(d: apps_pb2.Deployment, now: datetime) -> list[Cell]:
    # printDeployment prints the selector itself: empty, not <none>, when it is empty.
    return [
        d.metadata.name,
        f"{d.status.ready_replicas}/{d.spec.replicas}",
        d.status.updated_replicas,
        d.status.available_replicas,
        human_age(d.metadata.creation_timestamp, now),
        *containers_images(d.spec.template),
        label_selector_string(d.spec.selector),
    ]


def job_status(job: batch_pb2.Job) -> str:
    """Complete, Failed, Terminating, Suspended, FailureTarget or Running, in that precedence."""

    def condition(condition_type: str) -> bool:
        first = next((c for c in job.status.conditions if c.type == condition_type), None)
        return first is not None and first.status == "True"

    if condition("Complete"):
        return "Complete"
    if condition("Failed"):
        return "Failed"
    if job.metadata.deletion_timestamp:
        return "Terminating"
    if condition("Suspended"):
        return "Suspended"
    if condition("FailureTarget"):
        return "FailureTarget"
    return "Running"


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


def job_row(job: batch_pb2.Job, now: datetime) -> list[Cell]:
    return [
        job.metadata.name,
        job_status(job),
        job_completions(job),
        job_duration(job, now),
        human_age(job.metadata.creation_timestamp, now),
        *containers_images(job.spec.template),
        format_label_selector(job.spec.selector),
    ]


def _wide(selector_doc: str) -> tuple[Column, ...]:
    return (
        Column("Containers", "string", CONTAINERS_DOC, priority=1),
        Column("Images", "string", IMAGES_DOC, priority=1),
        Column("Selector", "string", selector_doc, priority=1),
    )


def _replicas(anchor: str, ready_doc: str) -> tuple[Column, ...]:
    return (
        name_column(),
        Column("Desired", "integer", _REPLICAS_DOC + anchor),
        Column("Current", "integer", _OBSERVED_REPLICAS_DOC + anchor),
        Column("Ready", "integer", ready_doc),
        age_column(),
    )


REPLICATION_CONTROLLER_TABLE = TableSpec(
    columns=_replicas(
        _WHAT_IS_AN_RC,
        "The number of ready replicas for this replication controller.",
    )
    + _wide(
        "Selector is a label query over pods that should match the Replicas count. If Selector "
        "is empty, it is defaulted to the labels present on the Pod template. Label keys and "
        "values that must match in order to be controlled by this replication controller, if "
        "empty defaulted to labels on Pod template. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
        "#label-selectors"
    ),
    row=replication_controller_row,
)
REPLICA_SET_TABLE = TableSpec(
    columns=_replicas(
        "/" + _WHAT_IS_AN_RC,
        "The number of ready replicas for this replica set.",
    )
    + _wide(
        "Selector is a label query over pods that should match the replica count. If the "
        "selector is empty, it is defaulted to the labels present on the pod template. Label "
        "keys and values that must match in order to be controlled by this replica set. More "
        "info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
        "#label-selectors"
    ),
    row=replica_set_row,
)
# UP-TO-DATE and AVAILABLE are typed "string" but their cells are integers, as in Kubernetes.
DEPLOYMENT_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Ready", "string", "Number of the pod with ready state"),
        Column(
            "Up-to-date",
            "string",
            "Total number of non-terminated pods targeted by this "
            "deployment that have the desired template spec.",
        ),
        Column(
            "Available",
            "string",
            "Total number of available pods (ready for at least "
            "minReadySeconds) targeted by this deployment.",
        ),
        age_column(),
        *_wide(
            "Label selector for pods. Existing ReplicaSets whose pods are selected by this "
            "will be the ones affected by this deployment."
        ),
    ),
    row=deployment_row,
)
JOB_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Status", "string", "Status of the job."),
        Column(
            "Completions",
            "string",
            "The number of pods which reached phase Succeeded. The value increases "
            "monotonically for a given spec. However, it may decrease in reaction to scale "
            "down of elastic indexed jobs.",
        ),
        Column("Duration", "string", "Time required to complete the job."),
        age_column(),
        *_wide(
            "A label query over pods that should match the pod count. Normally, the system "
            "sets this field for you. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
            "#label-selectors"
        ),
    ),
    row=job_row,
)
