"""The namespaces table, as printNamespace."""

from __future__ import annotations

from datetime import datetime

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column


def namespace_row(namespace: core_pb2.Namespace, now: datetime) -> list[Cell]:
    return [
        namespace.metadata.name,
        namespace.status.phase,
        human_age(namespace.metadata.creation_timestamp, now),
    ]


NAMESPACE_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Status", "string", "The status of the namespace"),
        age_column(),
    ),
    row=namespace_row,
)
