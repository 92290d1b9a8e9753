"""A service's endpoints per service port, from its EndpointSlices (pkg/proxy's
EndpointSliceCache: endpointInfoByServicePort, addEndpoints, endpointsMapFromEndpointInfo)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery.service import SERVICE_NAME_LABEL
from proxy.state.service_port import ServiceName, ServicePortName

log = logging.getLogger(__name__)

# The label that ties a slice to its service (discovery.LabelServiceName).


@dataclass(frozen=True)
class EndpointInfo:
    """One endpoint of a service port (BaseEndpointInfo): its address and state."""

    ip: str
    port: int
    is_local: bool = False
    ready: bool = True
    serving: bool = True
    terminating: bool = False

    def __str__(self) -> str:
        # net.JoinHostPort: an IPv6 address in brackets.
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"


def slice_service(endpoint_slice: discovery_pb2.EndpointSlice) -> ServiceName | None:
    """The service a slice belongs to, from its label; None without one."""
    name = endpoint_slice.metadata.labels.get(SERVICE_NAME_LABEL, "")
    if not name or not endpoint_slice.metadata.namespace:
        return None
    return ServiceName(endpoint_slice.metadata.namespace, name)


def service_endpoints(
    service: ServiceName,
    slices: Iterable[discovery_pb2.EndpointSlice],
    hostname: str,
    address_type: str = "IPv4",
) -> dict[ServicePortName, tuple[EndpointInfo, ...]]:
    """Every endpoint of the service's slices of `address_type`, per service port, each address
    once (a running pod's endpoint over a terminating one's), sorted by "ip:port" so that the
    rules are the same from one sync to the next."""
    by_port: dict[ServicePortName, dict[str, EndpointInfo]] = {}
    for endpoint_slice in slices:
        if endpoint_slice.address_type != address_type:
            continue
        for port in endpoint_slice.ports:
            if not port.HasField("name"):
                log.error(
                    "%s: ignoring a port of slice %s without a name",
                    service,
                    endpoint_slice.metadata.name,
                )
                continue
            if not port.port:
                log.error(
                    "%s: ignoring port %r of slice %s without a number",
                    service,
                    port.name,
                    endpoint_slice.metadata.name,
                )
                continue
            name = ServicePortName(
                service.namespace, service.name, port.name, port.protocol or "TCP"
            )
            known = by_port.setdefault(name, {})
            for endpoint in endpoint_slice.endpoints:
                if not endpoint.addresses:
                    continue
                conditions = endpoint.conditions
                info = EndpointInfo(
                    ip=endpoint.addresses[0],
                    port=port.port,
                    is_local=bool(hostname)
                    and endpoint.HasField("node_name")
                    and endpoint.node_name == hostname,
                    ready=not conditions.HasField("ready") or conditions.ready,
                    serving=not conditions.HasField("serving") or conditions.serving,
                    terminating=conditions.HasField("terminating") and conditions.terminating,
                )
                # An address seen twice: a pod's IP reused while the terminating pod that had it
                # is still listed; the running one wins.
                key = str(info)
                if key not in known or not info.terminating:
                    known[key] = info
    return {
        name: tuple(sorted(infos.values(), key=str)) for name, infos in by_port.items() if infos
    }
