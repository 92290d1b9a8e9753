"""Defaults of Services, Endpoints and EndpointSlices (pkg/apis/core/v1 defaults.go
SetDefaults_Service and SetDefaults_Endpoints, pkg/apis/discovery/v1 SetDefaults_EndpointPort)."""

from __future__ import annotations

from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import (
    AFFINITY_CLIENT_IP,
    AFFINITY_NONE,
    CLUSTER_IP,
    LOAD_BALANCER,
    NODE_PORT,
    TRAFFIC_CLUSTER,
)


def service(obj: service_pb2.Service) -> None:
    """SetDefaults_Service: affinity None (or ClientIP for 3 hours), type ClusterIP, ports TCP to
    the same target port, both traffic policies Cluster where they apply, a LoadBalancer's node
    ports allocated, and its ingress IPs in VIP mode."""
    spec = obj.spec
    spec.session_affinity = spec.session_affinity or AFFINITY_NONE
    if spec.session_affinity == AFFINITY_NONE:
        spec.ClearField("session_affinity_config")
    elif spec.session_affinity == AFFINITY_CLIENT_IP:
        config = spec.session_affinity_config
        if not (config.HasField("client_ip") and config.client_ip.HasField("timeout_seconds")):
            spec.session_affinity_config.client_ip.timeout_seconds = (
                svc_helper.DEFAULT_CLIENT_IP_AFFINITY_SECONDS
            )
    spec.type = spec.type or CLUSTER_IP
    for port in spec.ports:
        port.protocol = port.protocol or "TCP"
        if port.target_port in ("", "0"):
            port.target_port = str(port.port)
    if svc_helper.externally_accessible(obj) and not spec.external_traffic_policy:
        spec.external_traffic_policy = TRAFFIC_CLUSTER
    if not spec.internal_traffic_policy and spec.type in (NODE_PORT, LOAD_BALANCER, CLUSTER_IP):
        spec.internal_traffic_policy = TRAFFIC_CLUSTER
    if spec.type == LOAD_BALANCER:
        if not spec.HasField("allocate_load_balancer_node_ports"):
            spec.allocate_load_balancer_node_ports = True
        load_balancer_ip_mode(obj)


def load_balancer_ip_mode(obj: service_pb2.Service) -> None:
    """A LoadBalancer's ingress IPs are VIPs unless their mode is given (LoadBalancerIPMode);
    also applied to status updates, which Kubernetes defaults as it decodes them."""
    if obj.spec.type != LOAD_BALANCER:
        return
    for ingress in obj.status.load_balancer.ingress:
        if ingress.ip and not ingress.HasField("ip_mode"):
            ingress.ip_mode = "VIP"


def endpoints(obj: service_pb2.Endpoints) -> None:
    """SetDefaults_Endpoints: a port's protocol is TCP unless given."""
    for subset in obj.subsets:
        for port in subset.ports:
            port.protocol = port.protocol or "TCP"


def endpoint_slice(obj: discovery_pb2.EndpointSlice) -> None:
    """SetDefaults_EndpointPort: a port's name is "" and its protocol TCP unless given."""
    for port in obj.ports:
        if not port.HasField("name"):
            port.name = ""
        if not port.HasField("protocol"):
            port.protocol = "TCP"
