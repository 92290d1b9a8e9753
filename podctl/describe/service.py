"""`describe service`, `describe endpoints` and `describe endpointslice`: kubectl's
describeService (with the Service's EndpointSlices' ready endpoints per port), describeEndpoints
and describeEndpointSliceV1 layouts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from podctl.describe.common import write_annotations, write_events, write_labels
from podctl.describe.writer import LEVEL_0, LEVEL_1, LEVEL_2, LEVEL_3, PrefixWriter
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.printers.labels import format_labels

MAX_LISTED = 3


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def format_endpoint_slices(
    slices: Sequence[discovery_pb2.EndpointSlice], port_name: str | None
) -> str:
    """formatEndpointSlices: up to three ready addresses (with the port of that name), then
    "+ N more..."."""
    if not slices:
        return "<none>"
    listed: list[str] = []
    count = 0
    for eps in slices:
        ports = [p for p in eps.ports if port_name is None or p.name == port_name]
        if not eps.ports:
            targets: list[tuple[discovery_pb2.Endpoint, int | None]] = [
                (ep, None) for ep in eps.endpoints
            ]
        else:
            targets = [(ep, p.port) for p in ports for ep in eps.endpoints]
        for ep, port in targets:
            ready = not ep.conditions.HasField("ready") or ep.conditions.ready
            if not ready or not ep.addresses:
                continue
            if len(listed) < MAX_LISTED:
                address = ep.addresses[0]
                listed.append(address if port is None else _join_host_port(address, port))
            count += 1
    text = ",".join(listed)
    return f"{text} + {count - MAX_LISTED} more..." if count > MAX_LISTED else text


def _ingress(ingress: Iterable[service_pb2.LoadBalancerIngress]) -> str:
    """buildIngressString."""
    parts = []
    for i in ingress:
        if i.ip:
            parts.append(f"{i.ip} ({i.ip_mode})" if i.HasField("ip_mode") else i.ip)
        else:
            parts.append(i.hostname)
    return ", ".join(parts)


def describe_service(
    svc: service_pb2.Service,
    slices: Sequence[discovery_pb2.EndpointSlice],
    events: Iterable[core_pb2.Event] | None,
    now: datetime,
) -> str:
    spec = svc.spec
    w = PrefixWriter()
    w.write(LEVEL_0, f"Name:\t{svc.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{svc.metadata.namespace}\n")
    write_labels(w, "Labels", svc.metadata.labels)
    write_annotations(w, "Annotations", svc.metadata.annotations)
    w.write(LEVEL_0, f"Selector:\t{format_labels(spec.selector)}\n")
    w.write(LEVEL_0, f"Type:\t{spec.type}\n")
    if spec.ip_family_policy:
        w.write(LEVEL_0, f"IP Family Policy:\t{spec.ip_family_policy}\n")
    w.write(LEVEL_0, f"IP Families:\t{','.join(spec.ip_families) or '<none>'}\n")
    w.write(LEVEL_0, f"IP:\t{spec.cluster_ip}\n")
    w.write(LEVEL_0, f"IPs:\t{','.join(spec.cluster_ips) or '<none>'}\n")
    if spec.external_ips:
        w.write(LEVEL_0, f"External IPs:\t{','.join(spec.external_ips)}\n")
    if spec.load_balancer_ip:
        w.write(LEVEL_0, f"Desired LoadBalancer IP:\t{spec.load_balancer_ip}\n")
    if spec.external_name:
        w.write(LEVEL_0, f"External Name:\t{spec.external_name}\n")
    if svc.status.load_balancer.ingress:
        w.write(LEVEL_0, f"LoadBalancer Ingress:\t{_ingress(svc.status.load_balancer.ingress)}\n")
    for port in spec.ports:
        name = port.name or "<unset>"
        w.write(LEVEL_0, f"Port:\t{name}\t{port.port}/{port.protocol}\n")
        w.write(LEVEL_0, f"TargetPort:\t{port.target_port}/{port.protocol}\n")
        if port.node_port:
            w.write(LEVEL_0, f"NodePort:\t{name}\t{port.node_port}/{port.protocol}\n")
        w.write(LEVEL_0, f"Endpoints:\t{format_endpoint_slices(slices, port.name)}\n")
    w.write(LEVEL_0, f"Session Affinity:\t{spec.session_affinity}\n")
    if spec.external_traffic_policy:
        w.write(LEVEL_0, f"External Traffic Policy:\t{spec.external_traffic_policy}\n")
    if spec.internal_traffic_policy:
        w.write(LEVEL_0, f"Internal Traffic Policy:\t{spec.internal_traffic_policy}\n")
    if spec.health_check_node_port:
        w.write(LEVEL_0, f"HealthCheck NodePort:\t{spec.health_check_node_port}\n")
    if spec.load_balancer_source_ranges:
        ranges = ",".join(spec.load_balancer_source_ranges)
        w.write(LEVEL_0, f"LoadBalancer Source Ranges:\t{ranges}\n")
    if events is not None:
        write_events(w, events, now)
    return w.text()


def describe_endpoints(
    ep: service_pb2.Endpoints, events: Iterable[core_pb2.Event] | None, now: datetime
) -> str:
    w = PrefixWriter()
    w.write(LEVEL_0, f"Name:\t{ep.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{ep.metadata.namespace}\n")
    write_labels(w, "Labels", ep.metadata.labels)
    write_annotations(w, "Annotations", ep.metadata.annotations)
    w.write(LEVEL_0, "Subsets:\n")
    for subset in ep.subsets:
        ready = ",".join(a.ip for a in subset.addresses) or "<none>"
        not_ready = ",".join(a.ip for a in subset.not_ready_addresses) or "<none>"
        w.write(LEVEL_1, f"Addresses:\t{ready}\n")
        w.write(LEVEL_1, f"NotReadyAddresses:\t{not_ready}\n")
        if subset.ports:
            w.write(LEVEL_1, "Ports:\n")
            w.write(LEVEL_2, "Name\tPort\tProtocol\n")
            w.write(LEVEL_2, "----\t----\t--------\n")
            for port in subset.ports:
                w.write(LEVEL_2, f"{port.name or '<unset>'}\t{port.port}\t{port.protocol}\n")
        w.write(LEVEL_0, "\n")
    if events is not None:
        write_events(w, events, now)
    return w.text()


def describe_endpoint_slice(
    eps: discovery_pb2.EndpointSlice, events: Iterable[core_pb2.Event] | None, now: datetime
) -> str:
    w = PrefixWriter()
    w.write(LEVEL_0, f"Name:\t{eps.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{eps.metadata.namespace}\n")
    write_labels(w, "Labels", eps.metadata.labels)
    write_annotations(w, "Annotations", eps.metadata.annotations)
    w.write(LEVEL_0, f"AddressType:\t{eps.address_type}\n")
    if not eps.ports:
        w.write(LEVEL_0, "Ports: <unset>\n")
    else:
        w.write(LEVEL_0, "Ports:\n")
        w.write(LEVEL_1, "Name\tPort\tProtocol\n")
        w.write(LEVEL_1, "----\t----\t--------\n")
        for port in eps.ports:
            name = port.name if port.HasField("name") and port.name else "<unset>"
            number = str(port.port) if port.HasField("port") else "<unset>"
            w.write(LEVEL_1, f"{name}\t{number}\t{port.protocol}\n")
    if not eps.endpoints:
        w.write(LEVEL_0, "Endpoints: <none>\n")
    else:
        w.write(LEVEL_0, "Endpoints:\n")
        for ep in eps.endpoints:
            w.write(LEVEL_1, f"- Addresses:\t{', '.join(ep.addresses) or '<none>'}\n")
            w.write(LEVEL_2, "Conditions:\n")
            ready = (
                str(ep.conditions.ready).lower() if ep.conditions.HasField("ready") else "<unset>"
            )
            w.write(LEVEL_3, f"Ready:\t{ready}\n")
            w.write(
                LEVEL_2, f"Hostname:\t{ep.hostname if ep.HasField('hostname') else '<unset>'}\n"
            )
            if ep.HasField("target_ref"):
                w.write(LEVEL_2, f"TargetRef:\t{ep.target_ref.kind}/{ep.target_ref.name}\n")
            node = ep.node_name if ep.HasField("node_name") else "<unset>"
            w.write(LEVEL_2, f"NodeName:\t{node}\n")
            w.write(LEVEL_2, f"Zone:\t{ep.zone if ep.HasField('zone') else '<unset>'}\n")
    if events is not None:
        write_events(w, events, now)
    return w.text()
