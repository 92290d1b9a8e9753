"""Where a node's kubelet listens: its HTTPS API (Kubernetes' kubelet API, 10250) at the port
the Node advertises in status.daemonEndpoints.kubeletEndpoint, and podplane's gRPC kubelet
service (logs, exec, attach, port-forward for the apiserver) at the port the Node names in the
annotation below; the kubelet writes both, the apiserver reads them."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2

DEFAULT_KUBELET_PORT = 10250
DEFAULT_GRPC_PORT = 10350
GRPC_PORT_ANNOTATION = "podplane.io/kubelet-grpc-port"


def internal_ip(node: core_pb2.Node) -> str:
    return next((a.address for a in node.status.addresses if a.type == "InternalIP"), "")


def https_port(node: core_pb2.Node) -> int:
    return node.status.daemon_endpoints.kubelet_endpoint.port or DEFAULT_KUBELET_PORT


def grpc_port(node: core_pb2.Node) -> int:
    """The annotation's port; the default when it is missing or not a port number."""
    value = node.metadata.annotations.get(GRPC_PORT_ANNOTATION, "")
    return int(value) if value.isdigit() and 0 < int(value) < 65536 else DEFAULT_GRPC_PORT


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
