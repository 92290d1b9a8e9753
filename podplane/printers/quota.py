"""The pod template, limit range and resource quota tables, as printPodTemplate,
printLimitRange and printResourceQuota."""

from __future__ import annotations

from datetime import datetime

from podplane.api.core.v1 import core_pb2, quota_pb2
from podplane.apimachinery import quantity
from podplane.apimachinery.timeutil import human_age
from podplane.printers.labels import format_labels
from podplane.printers.spec import (
    CONTAINERS_DOC,
    CREATION_TIMESTAMP_DOC,
    IMAGES_DOC,
    Cell,
    Column,
    TableSpec,
    age_column,
    name_column,
)
from podplane.printers.workloads import containers_images


def pod_template_row(pt: core_pb2.PodTemplate, now: datetime) -> list[Cell]:
    return [
        pt.metadata.name,
        *containers_images(pt.template),
        format_labels(pt.template.metadata.labels),
    ]


def limit_range_row(lr: quota_pb2.LimitRange, now: datetime) -> list[Cell]:
    return [lr.metadata.name, lr.metadata.creation_timestamp]


def _shown(value: str) -> str:
    try:
        return quantity.canonical_text(value)
    except quantity.QuantityError:
        return value


def resource_quota_row(q: quota_pb2.ResourceQuota, now: datetime) -> list[Cell]:
    """Each status.hard resource as `name: used/hard`, sorted by name: limits.* under LIMIT,
    the rest under REQUEST."""
    request: list[str] = []
    limit: list[str] = []
    for name in sorted(q.status.hard):
        used = _shown(q.status.used.get(name, "0"))
        column = limit if name.split(".")[0] == "limits" and "." in name else request
        column.append(f"{name}: {used}/{_shown(q.status.hard[name])}")
    return [
        q.metadata.name,
        human_age(q.metadata.creation_timestamp, now),
        ", ".join(request),
        ", ".join(limit),
    ]


POD_TEMPLATE_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Containers", "string", CONTAINERS_DOC),
        Column("Images", "string", IMAGES_DOC),
        Column("Pod Labels", "string", "The labels for the pod template."),
    ),
    row=pod_template_row,
)
LIMIT_RANGE_TABLE = TableSpec(
    columns=(name_column(), Column("Created At", "date", CREATION_TIMESTAMP_DOC)),
    row=limit_range_row,
)
RESOURCE_QUOTA_TABLE = TableSpec(
    columns=(
        name_column(),
        age_column(),
        Column(
            "Request",
            "string",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        Column(
            "Limit",
            "string",
            "Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node.",
        ),
    ),
    row=resource_quota_row,
)
