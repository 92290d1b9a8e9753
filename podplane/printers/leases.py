"""The leases table, as printLease."""

from __future__ import annotations

from datetime import datetime

from podplane.api.coordination.v1 import lease_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column


def lease_row(lease: lease_pb2.Lease, now: datetime) -> list[Cell]:
    return [
        lease.metadata.name,
        lease.spec.holder_identity,
        human_age(lease.metadata.creation_timestamp, now),
    ]


LEASE_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Holder",
            "string",
            "holderIdentity contains the identity of the holder of a current lease. If "
            "Coordinated Leader Election is used, the holder identity must be equal to the "
            "elected LeaseCandidate.metadata.name field.",
        ),
        age_column(),
    ),
    row=lease_row,
)
