"""The namespaces table, as kubectl's printNamespace."""

from __future__ import annotations

from datetime import datetime

from podctl.printers.table import Column, TableSpec
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.timeutil import human_age


def namespace_row(namespace: core_pb2.Namespace, now: datetime) -> list[str]:
    return [
        namespace.metadata.name,
        namespace.status.phase,
        human_age(namespace.metadata.creation_timestamp, now),
    ]


NAMESPACE_TABLE = TableSpec(
    columns=(Column("Name"), Column("Status"), Column("Age")),
    row=namespace_row,
)
