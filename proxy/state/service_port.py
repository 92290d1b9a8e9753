"""A Service as kube-proxy sees it: one ServicePortInfo per port (pkg/proxy's ServicePortName and
BaseServicePortInfo, and serviceToServiceMap), for the proxier's IP family only."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import service as svcutil

log = logging.getLogger(__name__)

# Services handled by another proxy carry this label; headless ones carry HEADLESS_LABEL. Neither
# is kube-proxy's (its informers select `!service.kubernetes.io/service-proxy-name`).
SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name"


@dataclass(frozen=True, order=True)
class ServiceName:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, order=True)
class ServicePortName:
    """A service port, named as its EndpointSlices name it: the service, the port's name and its
    protocol."""

    namespace: str
    name: str
    port: str
    protocol: str

    @property
    def service(self) -> ServiceName:
        return ServiceName(self.namespace, self.name)

    def __str__(self) -> str:
        # ServicePortName.String(): "ns/name:port", or "ns/name" for an unnamed port; the
        # protocol is not part of it (it is hashed into chain names separately).
        base = f"{self.namespace}/{self.name}"
        return f"{base}:{self.port}" if self.port else base


@dataclass(frozen=True)
class ServicePortInfo:
    """What the rules of one service port need (BaseServicePortInfo)."""

    cluster_ip: str
    port: int
    protocol: str
    node_port: int = 0
    health_check_node_port: int = 0
    external_ips: tuple[str, ...] = ()
    load_balancer_vips: tuple[str, ...] = ()
    load_balancer_source_ranges: tuple[str, ...] = ()
    # sessionAffinity ClientIP: how long a client sticks to its endpoint; 0 without affinity.
    sticky_max_age_seconds: int = 0
    external_policy_local: bool = False
    internal_policy_local: bool = False

    @property
    def session_affinity_client_ip(self) -> bool:
        return self.sticky_max_age_seconds > 0

    @property
    def externally_accessible(self) -> bool:
        return bool(self.node_port or self.load_balancer_vips or self.external_ips)

    @property
    def uses_cluster_endpoints(self) -> bool:
        """Some traffic to the port may go to any endpoint in the cluster."""
        return not self.internal_policy_local or (
            self.externally_accessible and not self.external_policy_local
        )

    @property
    def uses_local_endpoints(self) -> bool:
        """Some traffic to the port may go only to this node's endpoints."""
        return self.internal_policy_local or (
            self.externally_accessible and self.external_policy_local
        )


def _family(address: str) -> str | None:
    try:
        return svcutil.IPV6 if ipaddress.ip_address(address).version == 6 else svcutil.IPV4
    except ValueError:
        return None


def _cidr_family(cidr: str) -> tuple[str, str] | None:
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None
    return str(network), svcutil.IPV6 if network.version == 6 else svcutil.IPV4


def cluster_ip_of_family(svc: service_pb2.Service, family: str) -> str:
    """The service's cluster IP of `family`, or "" (GetClusterIPByFamily)."""
    ips = list(svc.spec.cluster_ips) or ([svc.spec.cluster_ip] if svc.spec.cluster_ip else [])
    for ip in ips:
        if _family(ip) == family:
            return ip
    return ""


def should_skip(svc: service_pb2.Service) -> bool:
    """Headless and ExternalName services, and those of another proxy, are not proxied."""
    if not svcutil.is_ip_set(svc) or svc.spec.type == svcutil.EXTERNAL_NAME:
        return True
    return SERVICE_PROXY_NAME_LABEL in svc.metadata.labels


def service_ports(
    svc: service_pb2.Service, family: str = svcutil.IPV4
) -> dict[ServicePortName, ServicePortInfo]:
    """Each port of the service, or none when it is not proxied (or has no cluster IP of the
    proxier's family)."""
    if should_skip(svc):
        return {}
    cluster_ip = cluster_ip_of_family(svc, family)
    if not cluster_ip:
        return {}
    spec = svc.spec
    sticky = 0
    if spec.session_affinity == svcutil.AFFINITY_CLIENT_IP:
        timeout = spec.session_affinity_config.client_ip
        sticky = (
            timeout.timeout_seconds
            if timeout.HasField("timeout_seconds")
            else svcutil.DEFAULT_CLIENT_IP_AFFINITY_SECONDS
        )
    external_policy_local = (
        svcutil.externally_accessible(svc) and spec.external_traffic_policy == svcutil.TRAFFIC_LOCAL
    )
    internal_policy_local = spec.internal_traffic_policy == svcutil.TRAFFIC_LOCAL
    external_ips = tuple(ip for ip in spec.external_ips if _family(ip) == family)
    # Only VIP-mode load balancer addresses are the node's to answer for (ipMode Proxy ones reach
    # the node addressed to it); an address of the other family cannot be translated.
    vips = tuple(
        ing.ip
        for ing in svc.status.load_balancer.ingress
        if ing.ip
        and (not ing.HasField("ip_mode") or ing.ip_mode == "VIP")
        and _family(ing.ip) == family
    )
    ranges = tuple(
        cidr
        for cidr, fam in filter(None, map(_cidr_family, spec.load_balancer_source_ranges))
        if fam == family
    )
    health_check_node_port = 0
    if svcutil.needs_health_check(svc):
        health_check_node_port = spec.health_check_node_port
        if not health_check_node_port:
            log.error(
                "service %s/%s has no health check node port",
                svc.metadata.namespace,
                svc.metadata.name,
            )
    ports: dict[ServicePortName, ServicePortInfo] = {}
    for port in spec.ports:
        protocol = port.protocol or "TCP"
        name = ServicePortName(svc.metadata.namespace, svc.metadata.name, port.name, protocol)
        ports[name] = ServicePortInfo(
            cluster_ip=cluster_ip,
            port=port.port,
            protocol=protocol,
            node_port=port.node_port,
            health_check_node_port=health_check_node_port,
            external_ips=external_ips,
            load_balancer_vips=vips,
            load_balancer_source_ranges=ranges,
            sticky_max_age_seconds=sticky,
            external_policy_local=external_policy_local,
            internal_policy_local=internal_policy_local,
        )
    return ports
