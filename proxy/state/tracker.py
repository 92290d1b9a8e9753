"""The proxier's maps, kept from the informers' events: every proxied service port and its
endpoints, and which services changed since the last sync (pkg/proxy's ServiceChangeTracker and
EndpointsChangeTracker, folded into ServicePortMap and EndpointsMap).

Handlers run on the event loop; a sync runs in a worker thread and takes a snapshot with
checkout(), so both go through one lock. An event that changes nothing the rules use (a label, a
status, a slice rewritten with the same endpoints) is not a change: no sync follows it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from podplane.api.core.v1 import service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import service as svcutil
from proxy.state.endpoints import EndpointInfo, service_endpoints, slice_service
from proxy.state.service_port import ServiceName, ServicePortInfo, ServicePortName, service_ports

ServicePortMap = Mapping[ServicePortName, ServicePortInfo]
EndpointsMap = Mapping[ServicePortName, tuple[EndpointInfo, ...]]


@dataclass(frozen=True)
class Snapshot:
    """What one sync works from: the maps, and the services whose rules changed (Service or
    endpoints) since the previous checkout."""

    services: ServicePortMap
    endpoints: EndpointsMap
    changed: frozenset[ServiceName] = field(default_factory=frozenset)
    service_changes: int = 0
    endpoint_changes: int = 0


class ProxyState:
    def __init__(self, hostname: str, family: str = svcutil.IPV4) -> None:
        self.hostname = hostname
        self.family = family
        self._lock = threading.Lock()
        self._ports_by_service: dict[ServiceName, dict[ServicePortName, ServicePortInfo]] = {}
        self._slices: dict[ServiceName, dict[str, discovery_pb2.EndpointSlice]] = {}
        self._slice_service: dict[tuple[str, str], ServiceName] = {}  # (namespace, name) ->
        self._endpoints_by_service: dict[
            ServiceName, dict[ServicePortName, tuple[EndpointInfo, ...]]
        ] = {}
        self._services: dict[ServicePortName, ServicePortInfo] = {}
        self._endpoints: dict[ServicePortName, tuple[EndpointInfo, ...]] = {}
        self._service_changes: set[ServiceName] = set()
        self._endpoint_changes: set[ServiceName] = set()

    # ------------------------------------------------------------------ services
    def service_updated(self, svc: service_pb2.Service) -> bool:
        """An added or changed Service; True if its rules change."""
        name = ServiceName(svc.metadata.namespace, svc.metadata.name)
        return self._set_ports(name, service_ports(svc, self.family))

    def service_deleted(self, svc: service_pb2.Service) -> bool:
        return self._set_ports(ServiceName(svc.metadata.namespace, svc.metadata.name), {})

    def _set_ports(self, name: ServiceName, ports: dict[ServicePortName, ServicePortInfo]) -> bool:
        with self._lock:
            old = self._ports_by_service.get(name, {})
            if old == ports:
                return False
            for port_name in old:
                self._services.pop(port_name, None)
            self._services.update(ports)
            if ports:
                self._ports_by_service[name] = ports
            else:
                self._ports_by_service.pop(name, None)
            self._service_changes.add(name)
            return True

    # ------------------------------------------------------------------ endpoint slices
    def slice_updated(self, endpoint_slice: discovery_pb2.EndpointSlice) -> bool:
        """An added or changed EndpointSlice; True if its service's endpoints change."""
        return self._set_slice(endpoint_slice, remove=False)

    def slice_deleted(self, endpoint_slice: discovery_pb2.EndpointSlice) -> bool:
        return self._set_slice(endpoint_slice, remove=True)

    def _set_slice(self, endpoint_slice: discovery_pb2.EndpointSlice, *, remove: bool) -> bool:
        service = slice_service(endpoint_slice)
        key = endpoint_slice.metadata.name
        ident = (endpoint_slice.metadata.namespace, key)
        with self._lock:
            changed = False
            # A slice relabelled to another service leaves its old one.
            previous = self._slice_service.pop(ident, None)
            if previous is not None and previous != service:
                self._slices.get(previous, {}).pop(key, None)
                changed = self._recompute(previous)
            if service is None:
                return changed
            slices = self._slices.setdefault(service, {})
            if remove:
                slices.pop(key, None)
            else:
                slices[key] = endpoint_slice
                self._slice_service[ident] = service
            return self._recompute(service) or changed

    def _recompute(self, service: ServiceName) -> bool:
        slices = self._slices.get(service, {})
        endpoints = service_endpoints(service, slices.values(), self.hostname, self.family)
        if not slices:
            self._slices.pop(service, None)
        old = self._endpoints_by_service.get(service, {})
        if old == endpoints:
            return False
        for port_name in old:
            self._endpoints.pop(port_name, None)
        self._endpoints.update(endpoints)
        if endpoints:
            self._endpoints_by_service[service] = endpoints
        else:
            self._endpoints_by_service.pop(service, None)
        self._endpoint_changes.add(service)
        return True

    def local_ready_endpoints(self, service: ServiceName) -> int:
        """The service's ready endpoints on this node, each address and port once (what its
        health check node port reports: EndpointsMap.LocalReadyEndpoints)."""
        with self._lock:
            by_port = self._endpoints_by_service.get(service, {})
            local = {str(e) for infos in by_port.values() for e in infos if e.is_local and e.ready}
            return len(local)

    # ------------------------------------------------------------------ for the syncs
    def pending(self) -> tuple[int, int]:
        """Services and services' endpoints changed since the last checkout."""
        with self._lock:
            return len(self._service_changes), len(self._endpoint_changes)

    def checkout(self) -> Snapshot:
        """The maps as they are, and the changes since the last checkout (which it clears)."""
        with self._lock:
            snapshot = Snapshot(
                services=dict(self._services),
                endpoints=dict(self._endpoints),
                changed=frozenset(self._service_changes | self._endpoint_changes),
                service_changes=len(self._service_changes),
                endpoint_changes=len(self._endpoint_changes),
            )
            self._service_changes.clear()
            self._endpoint_changes.clear()
            return snapshot
