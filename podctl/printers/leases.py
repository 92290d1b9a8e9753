"""The leases table, as kubectl's printLease."""

from __future__ import annotations

from datetime import datetime

from podctl.printers.table import Column, TableSpec
from podplane.api.coordination.v1 import lease_pb2
from podplane.apimachinery.timeutil import human_age


def lease_row(lease: lease_pb2.Lease, now: datetime) -> list[str]:
    return [
        lease.metadata.name,
        lease.spec.holder_identity,
        human_age(lease.metadata.creation_timestamp, now),
    ]


LEASE_TABLE = TableSpec(
    columns=(Column("Name"), Column("Holder"), Column("Age")),
    row=lease_row,
)
