"""A Service's Endpoints from its pods (kubernetes pkg/controller/endpoint syncService and
pkg/api/v1/endpoints RepackSubsets), as plain functions of the cached objects.

Each pod with an IP is an address of each service port it has (a named target port is looked up
in the pod), ready or not ready by its Ready condition (every one ready when the Service
publishes not-ready addresses, and a terminating pod only then). Addresses that serve the same
ports are packed into one subset; subsets, addresses and ports are sorted, so that the same
endpoints always read alike and an unchanged Service writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controller.framework import endpoint_pods, pod_state
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.apimachinery import service as svc_helper

# Endpoints' own labels: the Service's, and the headless label for a Service without cluster IP.
HEADLESS_LABEL = svc_helper.HEADLESS_LABEL


@dataclass(frozen=True)
class _Entry:
    """One address offering one port (or no port, for a headless Service without ports)."""

    address: service_pb2.EndpointAddress
    port: service_pb2.EndpointPort | None
    ready: bool


# How ports and addresses are told apart and sorted.
PortKey = tuple[str, int, str, str]
AddressKey = tuple[str, str]


def _port_sort_key(p: service_pb2.EndpointPort) -> PortKey:
    return (p.name, p.port, p.protocol, p.app_protocol)


def _address_sort_key(a: service_pb2.EndpointAddress) -> AddressKey:
    """LessEndpointAddress: by IP, then by the pod's uid."""
    return (a.ip, a.target_ref.uid)


def pod_address(pod: core_pb2.Pod, svc: service_pb2.Service) -> service_pb2.EndpointAddress | None:
    """podToEndpointAddressForService: the pod's IP of the Service's (first) family."""
    families = endpoint_pods.address_families(svc)
    ips = endpoint_pods.addresses(pod, families[0]) if len(families) == 1 else []
    if not ips and len(families) > 1:  # a headless Service of no family: the pod's IP
        ips = [pod.status.pod_ip] if pod.status.pod_ip else []
    if not ips:
        return None
    address = service_pb2.EndpointAddress(
        ip=ips[0],
        target_ref=core_pb2.ObjectReference(
            kind="Pod",
            namespace=pod.metadata.namespace,
            name=pod.metadata.name,
            uid=pod.metadata.uid,
        ),
    )
    if pod.spec.node_name:
        address.node_name = pod.spec.node_name
    if endpoint_pods.should_set_hostname(pod, svc):
        address.hostname = pod.spec.hostname
    return address


def _entries(svc: service_pb2.Service, pods: Sequence[core_pb2.Pod]) -> list[_Entry]:
    tolerate_unready = svc.spec.publish_not_ready_addresses
    entries = []
    for pod in pods:
        if not endpoint_pods.should_be_in_endpoints(pod, include_terminating=tolerate_unready):
            continue
        address = pod_address(pod, svc)
        if address is None:
            continue
        ready = tolerate_unready or pod_state.is_ready(pod)
        if not svc.spec.ports and svc.spec.cluster_ip == svc_helper.CLUSTER_IP_NONE:
            entries.append(_Entry(address, None, ready))
            continue
        for sp in svc.spec.ports:
            number = svc_helper.find_port(pod, sp)
            if number is None:
                continue
            port = service_pb2.EndpointPort(name=sp.name, port=number, protocol=sp.protocol)
            if sp.HasField("app_protocol"):
                port.app_protocol = sp.app_protocol
            entries.append(_Entry(address, port, ready))
    return entries


def subsets(
    svc: service_pb2.Service, pods: Sequence[core_pb2.Pod]
) -> list[service_pb2.EndpointSubset]:
    """The Service's endpoints, repacked as RepackSubsets does: each port is mapped to the
    addresses that offer it (an address not ready on it counts as not ready), and the ports with
    the same addresses share a subset."""
    addresses: dict[AddressKey, service_pb2.EndpointAddress] = {}
    port_messages: dict[PortKey, service_pb2.EndpointPort] = {}
    offered: dict[PortKey, dict[AddressKey, bool]] = {}
    portless: dict[AddressKey, bool] = {}
    for e in _entries(svc, pods):
        key = _address_sort_key(e.address)
        addresses.setdefault(key, e.address)
        if e.port is None:
            portless[key] = portless.get(key, True) and e.ready
            continue
        pkey = _port_sort_key(e.port)
        port_messages[pkey] = e.port
        by_address = offered.setdefault(pkey, {})
        by_address[key] = by_address.get(key, True) and e.ready
    groups: dict[tuple[tuple[AddressKey, bool], ...], list[PortKey]] = {}
    for pkey, by_address in offered.items():
        groups.setdefault(tuple(sorted(by_address.items())), []).append(pkey)
    if portless:
        groups[tuple(sorted(portless.items()))] = []
    return [
        service_pb2.EndpointSubset(
            addresses=[addresses[k] for k, ready in state if ready],
            not_ready_addresses=[addresses[k] for k, ready in state if not ready],
            ports=[port_messages[p] for p in sorted(pkeys)],
        )
        for state, pkeys in sorted(groups.items())
    ]


def endpoints_labels(svc: service_pb2.Service) -> dict[str, str]:
    labels = dict(svc.metadata.labels)
    if svc_helper.is_ip_set(svc):
        labels.pop(HEADLESS_LABEL, None)
    else:
        labels[HEADLESS_LABEL] = ""
    return labels
