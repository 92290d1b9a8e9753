"""The service, endpoints and endpoint slice tables, as printService, printEndpoints and
printEndpointSlice (pkg/printers/internalversion) print them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.timeutil import human_age
from podplane.printers.labels import format_labels
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column

# Cells list at most this many endpoints, then "+ N more...".
MAX_LISTED = 3


def _join_host_port(host: str, port: int) -> str:
    """net.JoinHostPort: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _load_balancer_ips(status: service_pb2.LoadBalancerStatus) -> list[str]:
    """loadBalancerStatusStringer (wide): each ingress point's IP, else its host name, sorted."""
    return sorted({i.ip or i.hostname for i in status.ingress if i.ip or i.hostname})


def external_ip(svc: service_pb2.Service) -> str:
    """getServiceExternalIP: the external IPs, a load balancer's ingress points, an
    ExternalName's name."""
    spec = svc.spec
    if spec.type in (svc_helper.CLUSTER_IP, svc_helper.NODE_PORT):
        return ",".join(spec.external_ips) or "<none>"
    if spec.type == svc_helper.LOAD_BALANCER:
        addresses = _load_balancer_ips(svc.status.load_balancer) + list(spec.external_ips)
        return ",".join(addresses) or "<pending>"
    if spec.type == svc_helper.EXTERNAL_NAME:
        return spec.external_name
    return "<unknown>"


def port_string(ports: Iterable[service_pb2.ServicePort]) -> str:
    """makePortString: 80/TCP, or 80:30080/TCP with a node port."""
    return ",".join(
        f"{p.port}:{p.node_port}/{p.protocol}" if p.node_port > 0 else f"{p.port}/{p.protocol}"
        for p in ports
    )


def service_row(svc: service_pb2.Service, now: datetime) -> list[Cell]:
    return [
        svc.metadata.name,
        svc.spec.type,
        svc.spec.cluster_ips[0] if svc.spec.cluster_ips else "<none>",
        external_ip(svc),
        port_string(svc.spec.ports) or "<none>",
        human_age(svc.metadata.creation_timestamp, now),
        format_labels(svc.spec.selector),
    ]


def format_endpoints(endpoints: service_pb2.Endpoints) -> str:
    """formatEndpoints: up to three ready ip:port (or ip, for a subset without ports)."""
    if not endpoints.subsets:
        return "<none>"
    listed: list[str] = []
    count = 0
    for subset in endpoints.subsets:
        ports: Sequence[int | None] = [p.port for p in subset.ports] or [None]
        for port in ports:
            count += len(subset.addresses)
            for address in subset.addresses:
                if len(listed) == MAX_LISTED:
                    break
                listed.append(address.ip if port is None else _join_host_port(address.ip, port))
    text = ",".join(listed)
    return f"{text} + {count - MAX_LISTED} more..." if count > MAX_LISTED else text


def endpoints_row(endpoints: service_pb2.Endpoints, now: datetime) -> list[Cell]:
    return [
        endpoints.metadata.name,
        format_endpoints(endpoints),
        human_age(endpoints.metadata.creation_timestamp, now),
    ]


def _with_more(listed: list[str], count: int) -> str:
    """listWithMoreString."""
    if count > MAX_LISTED:
        return f"{','.join(listed)} + {count - MAX_LISTED} more..."
    return ",".join(listed) or "<unset>"


def format_slice_ports(ports: Sequence[discovery_pb2.EndpointPort]) -> str:
    """formatDiscoveryPorts: each port's number, else its name, else *."""
    listed = [
        str(p.port) if p.HasField("port") else (p.name if p.HasField("name") else "*")
        for p in ports[:MAX_LISTED]
    ]
    return _with_more(listed, len(ports))


def format_slice_endpoints(endpoints: Sequence[discovery_pb2.Endpoint]) -> str:
    """formatDiscoveryEndpoints: the endpoints' addresses."""
    addresses = [a for ep in endpoints for a in ep.addresses]
    return _with_more(addresses[:MAX_LISTED], len(addresses))


def endpoint_slice_row(eps: discovery_pb2.EndpointSlice, now: datetime) -> list[Cell]:
    return [
        eps.metadata.name,
        eps.address_type,
        format_slice_ports(eps.ports),
        format_slice_endpoints(eps.endpoints),
        human_age(eps.metadata.creation_timestamp, now),
    ]


SERVICE_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Type",
            "string",
            "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
            'ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a '
            "cluster-internal IP address for load-balancing to endpoints. Endpoints are "
            "determined by the selector or if that is not specified, by manual construction of "
            'an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP '
            "is allocated and the endpoints are published as a set of endpoints rather than a "
            'virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which '
            'routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort '
            "and creates an external load-balancer (if supported in the current cloud) which "
            'routes to the same endpoints as the clusterIP. "ExternalName" aliases this service '
            "to the specified externalName. Several other fields do not apply to ExternalName "
            "services. More info: https://kubernetes.io/docs/concepts/services-networking/"
            "service/#publishing-services-service-types",
        ),
        Column(
            "Cluster-IP",
            "string",
            "clusterIP is the IP address of the service and is usually assigned randomly. If an "
            "address is specified manually, is in-range (as per system configuration), and is "
            "not in use, it will be allocated to the service; otherwise creation of the service "
            "will fail. This field may not be changed through updates unless the type field is "
            "also being changed to ExternalName (which requires this field to be blank) or the "
            "type field is being changed from ExternalName (in which case this field may "
            'optionally be specified, as describe above).  Valid values are "None", empty '
            'string (""), or a valid IP address. Setting this to "None" makes a "headless '
            'service" (no virtual IP), which is useful when direct endpoint connections are '
            "preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, "
            "and LoadBalancer. If this field is specified when creating a Service of type "
            "ExternalName, creation will fail. This field will be wiped when updating a Service "
            "to type ExternalName. More info: https://kubernetes.io/docs/concepts/"
            "services-networking/service/#virtual-ips-and-service-proxies",
        ),
        Column(
            "External-IP",
            "string",
            "externalIPs is a list of IP addresses for which nodes in the cluster will also "
            "accept traffic for this service.  These IPs are not managed by Kubernetes.  The "
            "user is responsible for ensuring that traffic arrives at a node with this IP.  A "
            "common example is external load-balancers that are not part of the Kubernetes "
            "system.",
        ),
        Column(
            "Port(s)",
            "string",
            "The list of ports that are exposed by this service. More info: "
            "https://kubernetes.io/docs/concepts/services-networking/service/"
            "#virtual-ips-and-service-proxies",
        ),
        age_column(),
        Column(
            "Selector",
            "string",
            "Route service traffic to pods with label keys and values matching this selector. "
            "If empty or not present, the service is assumed to have an external process "
            "managing its endpoints, which Kubernetes will not modify. Only applies to types "
            "ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: "
            "https://kubernetes.io/docs/concepts/services-networking/service/",
            priority=1,
        ),
    ),
    row=service_row,
)
ENDPOINTS_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Endpoints",
            "string",
            "The set of all endpoints is the union of all subsets. Addresses are placed into "
            "subsets according to the IPs they share. A single address with multiple ports, "
            "some of which are ready and some of which are not (because they come from "
            "different containers) will result in the address being displayed in different "
            "subsets for the different ports. No address will appear in both Addresses and "
            "NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a "
            "service.",
        ),
        age_column(),
    ),
    row=endpoints_row,
)
ENDPOINT_SLICE_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "AddressType",
            "string",
            "addressType specifies the type of address carried by this EndpointSlice. All "
            "addresses in this slice must be the same type. This field is immutable after "
            "creation. The following address types are currently supported: * IPv4: Represents "
            "an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully "
            "Qualified Domain Name.",
        ),
        Column(
            "Ports",
            "string",
            "ports specifies the list of network ports exposed by each endpoint in this slice. "
            "Each port must have a unique name. When ports is empty, it indicates that there "
            'are no defined ports. When a port is defined with a nil port value, it indicates "all '
            'ports". Each slice may include a maximum of 100 ports.',
        ),
        Column(
            "Endpoints",
            "string",
            "endpoints is a list of unique endpoints in this slice. Each slice may include a "
            "maximum of 1000 endpoints.",
        ),
        age_column(),
    ),
    row=endpoint_slice_row,
)
