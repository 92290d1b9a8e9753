"""APIService defaults (kube-aggregator pkg/apis/apiregistration/v1 defaults.go)."""

from __future__ import annotations

from podplane.api.apiregistration.v1 import apiregistration_pb2

DEFAULT_SERVICE_PORT = 443


def api_service(obj: apiregistration_pb2.APIService) -> None:
    """A service named without a port is reached on 443 (SetDefaults_ServiceReference)."""
    if obj.spec.HasField("service") and not obj.spec.service.HasField("port"):
        obj.spec.service.port = DEFAULT_SERVICE_PORT
