"""The component statuses table, as printComponentStatus: the Healthy condition's status
(Healthy when True, else Unhealthy; Unknown without the condition), message and error."""

from __future__ import annotations

from datetime import datetime

from podplane.api.core.v1 import core_pb2
from podplane.printers.spec import Cell, Column, TableSpec, name_column


def component_status_row(obj: core_pb2.ComponentStatus, now: datetime) -> list[Cell]:
    status, message, error = "Unknown", "", ""
    for condition in obj.conditions:
        if condition.type == "Healthy":
            status = "Healthy" if condition.status == "True" else "Unhealthy"
            message, error = condition.message, condition.error
            break
    return [obj.metadata.name, status, message, error]


COMPONENT_STATUS_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Status", "string", "Status of the component conditions"),
        Column("Message", "string", "Message of the component conditions"),
        Column("Error", "string", "Error of the component conditions"),
    ),
    row=component_status_row,
)
