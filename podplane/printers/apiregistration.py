"""The APIService table, as kube-aggregator's ConvertToTable: SERVICE is `Local` or the service's
namespace/name, AVAILABLE the Available condition's status, with its reason when it is not True
(`False (MissingEndpoints)`), Unknown without one."""

from __future__ import annotations

from datetime import datetime

from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column

APIService = apiregistration_pb2.APIService


def service_text(obj: APIService) -> str:
    if not obj.spec.HasField("service"):
        return "Local"
    return f"{obj.spec.service.namespace}/{obj.spec.service.name}"


def available_text(obj: APIService) -> str:
    condition = next((c for c in obj.status.conditions if c.type == "Available"), None)
    if condition is None:
        return "Unknown"
    if condition.status == "True" or not condition.reason:
        return condition.status
    return f"{condition.status} ({condition.reason})"


def api_service_row(obj: APIService, now: datetime) -> list[Cell]:
    return [
        obj.metadata.name,
        service_text(obj),
        available_text(obj),
        human_age(obj.metadata.creation_timestamp, now),
    ]


API_SERVICE_TABLE = TableSpec(
    columns=(
        name_column(),
        Column("Service", "string", "The reference to the service that hosts this API endpoint."),
        Column("Available", "string", "Whether this service is available."),
        age_column(),
    ),
    row=api_service_row,
)
