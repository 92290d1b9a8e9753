"""What a Service's fields mean together (kubernetes pkg/api/service and pkg/apis/core/v1/helper):
which types get a cluster IP and node ports, whether it is headless, how a target port is found
on a pod. The apiserver, the endpoint controllers and kube-proxy all read services through these."""

from __future__ import annotations

import ipaddress

from podplane.api.core.v1 import core_pb2, service_pb2

CLUSTER_IP = "ClusterIP"
NODE_PORT = "NodePort"
LOAD_BALANCER = "LoadBalancer"
EXTERNAL_NAME = "ExternalName"
SERVICE_TYPES = (CLUSTER_IP, EXTERNAL_NAME, LOAD_BALANCER, NODE_PORT)  # sorted, as Go lists them
CLUSTER_IP_NONE = "None"

IPV4, IPV6 = "IPv4", "IPv6"
SINGLE_STACK, PREFER_DUAL_STACK, REQUIRE_DUAL_STACK = (
    "SingleStack",
    "PreferDualStack",
    "RequireDualStack",
)
TRAFFIC_CLUSTER, TRAFFIC_LOCAL = "Cluster", "Local"
AFFINITY_NONE, AFFINITY_CLIENT_IP = "None", "ClientIP"
# The label naming an EndpointSlice's Service (discovery/v1 LabelServiceName).
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800
MAX_CLIENT_IP_AFFINITY_SECONDS = 86400
PROTOCOLS = ("SCTP", "TCP", "UDP")  # sorted, as Go lists them

# The label Endpoints and EndpointSlices of a headless service carry (v1.IsHeadlessService).
HEADLESS_LABEL = "service.kubernetes.io/headless"


def is_headless(svc: service_pb2.Service) -> bool:
    """clusterIP None: no virtual IP; DNS answers with the endpoints' addresses."""
    ips = svc.spec.cluster_ips
    return len(ips) == 1 and ips[0] == CLUSTER_IP_NONE


def is_ip_set(svc: service_pb2.Service) -> bool:
    """A virtual IP was allocated (v1helper.IsServiceIPSet)."""
    return svc.spec.cluster_ip not in ("", CLUSTER_IP_NONE)


def needs_cluster_ip(svc: service_pb2.Service) -> bool:
    return svc.spec.type != EXTERNAL_NAME


def needs_node_port(svc: service_pb2.Service) -> bool:
    return svc.spec.type in (NODE_PORT, LOAD_BALANCER)


def externally_accessible(svc: service_pb2.Service) -> bool:
    """Reachable from outside the cluster: node ports, load balancers or external IPs."""
    return svc.spec.type in (LOAD_BALANCER, NODE_PORT) or (
        svc.spec.type == CLUSTER_IP and len(svc.spec.external_ips) > 0
    )


def requests_only_local_traffic(svc: service_pb2.Service) -> bool:
    return needs_node_port(svc) and svc.spec.external_traffic_policy == TRAFFIC_LOCAL


def needs_health_check(svc: service_pb2.Service) -> bool:
    """A LoadBalancer with externalTrafficPolicy Local gets a health check node port."""
    return svc.spec.type == LOAD_BALANCER and requests_only_local_traffic(svc)


def should_allocate_node_ports(svc: service_pb2.Service) -> bool:
    if svc.spec.type == NODE_PORT:
        return True
    if svc.spec.type == LOAD_BALANCER:
        spec = svc.spec
        return not spec.HasField("allocate_load_balancer_node_ports") or bool(
            spec.allocate_load_balancer_node_ports
        )
    return False


def ip_family(address: str) -> str | None:
    """IPv4 or IPv6 for an address ("" when it is not one); an IPv4-mapped IPv6 address is IPv4,
    as Go parses it."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return IPV6
    return IPV4


def target_port_number(target_port: str) -> int | None:
    """A target port given as a number (an int-or-string holding an int), else None."""
    return int(target_port) if target_port.lstrip("-").isdigit() else None


def find_port(pod: core_pb2.Pod, port: service_pb2.ServicePort) -> int | None:
    """The pod's port a service port's traffic goes to (podutil.FindPort): the target port's
    number, or the container port of that name and protocol (sidecar containers included); None
    when the pod has no such port."""
    number = target_port_number(port.target_port)
    if number is not None:
        return number
    containers = [*pod.spec.containers, *sidecar_containers(pod)]
    for container in containers:
        for cp in container.ports:
            if cp.name == port.target_port and (cp.protocol or "TCP") == port.protocol:
                return int(cp.container_port)
    return None


def sidecar_containers(pod: core_pb2.Pod) -> list[core_pb2.Container]:
    """Init containers with restartPolicy Always (sidecars), whose ports serve like the main
    containers'. Empty until containers have a restartPolicy field."""
    fields = core_pb2.Container.DESCRIPTOR.fields_by_name
    if "restart_policy" not in fields:
        return []
    return [c for c in pod.spec.init_containers if getattr(c, "restart_policy", "") == "Always"]
