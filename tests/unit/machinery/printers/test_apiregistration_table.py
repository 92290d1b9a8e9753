"""The APIService table's cells, as kube-aggregator's ConvertToTable writes them: SERVICE `Local`
or namespace/name; AVAILABLE the Available condition's status, its reason beside a status that is
not True, Unknown without the condition."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.printers.apiregistration import api_service_row

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def api_service(service: str = "", **condition: str) -> apiregistration_pb2.APIService:
    obj = apiregistration_pb2.APIService()
    obj.metadata.name = "v1beta1.metrics.k8s.io"
    obj.metadata.creation_timestamp = "2026-11-26T11:00:00Z"
    if service:
        namespace, name = service.split("/")
        obj.spec.service.namespace, obj.spec.service.name = namespace, name
    if condition:
        obj.status.conditions.add(type="Available", **condition)
    return obj


@pytest.mark.parametrize(
    "obj, service, available",
    [
        (api_service(status="True", reason="Local"), "Local", "True"),
        (
            api_service("kube-system/metrics-server", status="False", reason="MissingEndpoints"),
            "kube-system/metrics-server",
            "False (MissingEndpoints)",
        ),
        (
            api_service("kube-system/metrics-server", status="False"),
            "kube-system/metrics-server",
            "False",
        ),
        (api_service("monitoring/metrics"), "monitoring/metrics", "Unknown"),
    ],
)
def test_row(obj: apiregistration_pb2.APIService, service: str, available: str) -> None:
    assert api_service_row(obj, NOW) == ["v1beta1.metrics.k8s.io", service, available, "60m"]
