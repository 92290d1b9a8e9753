"""Services and EndpointSlices for kube-proxy's tests, from Kubernetes JSON."""

from __future__ import annotations

from typing import Any

from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import manifest


def service(
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    name: str = "web",
) -> service_pb2.Service:
    """ns/<name>, a ClusterIP service with port http 80 -> 8080, as the apiserver defaults it."""
    full: dict[str, Any] = {
        "type": "ClusterIP",
        "clusterIP": "10.96.0.20",
        "clusterIPs": ["10.96.0.20"],
        "ports": [{"name": "http", "port": 80, "targetPort": "8080", "protocol": "TCP"}],
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
    }
    full.update(spec or {})
    data = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "ns", "labels": labels or {}},
        "spec": full,
        "status": status or {},
    }
    return manifest.from_dict(data, service_pb2.Service)


def endpoint_slice(
    name: str = "web-abc",
    endpoints: list[dict[str, Any]] | None = None,
    ports: list[dict[str, Any]] | None = None,
    address_type: str = "IPv4",
    service_name: str = "web",
) -> discovery_pb2.EndpointSlice:
    """A slice in ns of the service `service_name` ("" for none), port http 8080 by default."""
    data = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "labels": {"kubernetes.io/service-name": service_name} if service_name else {},
        },
        "addressType": address_type,
        "endpoints": endpoints if endpoints is not None else [],
        "ports": ports
        if ports is not None
        else [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }
    return manifest.from_dict(data, discovery_pb2.EndpointSlice)


def ep(ip: str, node: str = "node-2", **conditions: bool) -> dict[str, Any]:
    """An endpoint of a slice: its address, node and conditions."""
    return {"addresses": [ip], "nodeName": node, "conditions": conditions}
