"""Which endpoints of a service port this node's traffic may use, under its traffic policies
(pkg/proxy/topology.go's CategorizeEndpoints, without topology hints: podplane's EndpointSlice
controller writes none)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from proxy.state.endpoints import EndpointInfo
from proxy.state.service_port import ServicePortInfo


@dataclass(frozen=True)
class Categorized:
    """cluster: for Cluster traffic policy; local: this node's, for Local policy;
    reachable: the union, each once (the endpoints that get a chain); has_any: the port has a
    usable endpoint anywhere, so its traffic is not rejected."""

    cluster: tuple[EndpointInfo, ...]
    local: tuple[EndpointInfo, ...]
    reachable: tuple[EndpointInfo, ...]
    has_any: bool


def categorize_endpoints(endpoints: Sequence[EndpointInfo], svc: ServicePortInfo) -> Categorized:
    """Ready endpoints; when a policy has none, its serving terminating ones (KEP-1669), so that
    connections to a rolling-out service still land somewhere."""
    cluster: tuple[EndpointInfo, ...] = ()
    has_any = False
    if svc.uses_cluster_endpoints:
        cluster = tuple(ep for ep in endpoints if ep.ready)
        if not cluster:
            cluster = tuple(ep for ep in endpoints if ep.serving and ep.terminating)
        has_any = bool(cluster)
    if not svc.uses_local_endpoints:
        return Categorized(cluster, (), cluster, has_any)

    local_ready = local_terminating = False
    for ep in endpoints:
        if ep.ready:
            has_any = True
            local_ready = local_ready or ep.is_local
        elif ep.serving and ep.terminating:
            has_any = True
            local_terminating = local_terminating or ep.is_local
    local: tuple[EndpointInfo, ...] = ()
    if local_ready:
        local = tuple(ep for ep in endpoints if ep.is_local and ep.ready)
    elif local_terminating:
        local = tuple(ep for ep in endpoints if ep.is_local and ep.serving and ep.terminating)
    if not svc.uses_cluster_endpoints:
        return Categorized((), local, local, has_any)

    # Both: the union, in the endpoints' own order.
    chosen = {str(ep) for ep in cluster} | {str(ep) for ep in local}
    reachable = tuple(ep for ep in endpoints if str(ep) in chosen)
    return Categorized(cluster, local, reachable, has_any)
