"""Which node announces a load balancer address (MetalLB's layer 2 mode): of the nodes that may
carry its traffic, the first by a hash of the node's name and the address. Every kube-proxy
computes the same answer from the same Services, EndpointSlices and Nodes, so that one node
holds each address, and different addresses spread over the nodes.

Nodes that may: Ready, not being deleted, not labelled
node.kubernetes.io/exclude-from-external-load-balancers (as Kubernetes' service controller leaves
them out); with externalTrafficPolicy Local, only those with a ready endpoint of the Service,
since the others drop its external traffic."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable

from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import service as svcutil

EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"


def node_may_announce(node: core_pb2.Node) -> bool:
    if node.metadata.deletion_timestamp or EXCLUDE_LABEL in node.metadata.labels:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)


def announcer(address: str, nodes: Iterable[str]) -> str | None:
    """The node that announces `address`, of `nodes`; None if there are none."""

    def rank(node: str) -> bytes:
        return hashlib.sha256(f"{node}#{address}".encode()).digest()

    return min(nodes, key=rank, default=None)


def serves_class(svc: service_pb2.Service, load_balancer_class: str) -> bool:
    spec = svc.spec
    own = spec.load_balancer_class if spec.HasField("load_balancer_class") else ""
    return spec.type == svcutil.LOAD_BALANCER and own == load_balancer_class


def ready_endpoint_nodes(slices: Iterable[discovery_pb2.EndpointSlice]) -> set[str]:
    """The nodes of the slices' ready endpoints (an unset condition counts as ready)."""
    return {
        e.node_name
        for s in slices
        for e in s.endpoints
        if e.HasField("node_name") and (not e.conditions.HasField("ready") or e.conditions.ready)
    }


def announced_by(
    hostname: str,
    services: Iterable[service_pb2.Service],
    slices_of: Callable[[service_pb2.Service], list[discovery_pb2.EndpointSlice]],
    nodes: Iterable[core_pb2.Node],
    load_balancer_class: str = "",
) -> set[str]:
    """The IPv4 load balancer addresses `hostname` announces."""
    eligible = {n.metadata.name for n in nodes if node_may_announce(n)}
    if hostname not in eligible:
        return set()
    out: set[str] = set()
    for svc in services:
        if not serves_class(svc, load_balancer_class):
            continue
        addresses = [i.ip for i in svc.status.load_balancer.ingress if _ipv4(i.ip)]
        if not addresses:
            continue
        candidates = eligible
        if svc.spec.external_traffic_policy == svcutil.TRAFFIC_LOCAL:
            candidates = eligible & ready_endpoint_nodes(slices_of(svc))
        out.update(a for a in addresses if announcer(a, candidates) == hostname)
    return out


def _ipv4(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == 4
    except ValueError:
        return False
