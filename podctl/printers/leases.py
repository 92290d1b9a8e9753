"""The leases table, as kubectl's printLease."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from podctl.printers.table import Column, TableSpec
from podplane.apimachinery.timeutil import human_age


def lease_row(lease: Any, now: datetime) -> list[str]:
    return [lease.metadata.name, lease.spec.holder_identity,
            human_age(lease.metadata.creation_timestamp, now)]


LEASE_TABLE = TableSpec(
    columns=(Column("Name"), Column("Holder"), Column("Age")),
    row=lease_row,
)
