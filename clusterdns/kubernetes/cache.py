"""The cluster as DNS sees it: Services, their ready endpoints, namespaces and (to verify pod
names) pods, indexed by name and by address. Informers feed it (ClusterWatch); every answer is
computed from it at query time, so a change is answered as soon as its watch event arrives."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from typing import Protocol, TypeVar

from clusterdns.kubernetes.names import dashed
from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import SERVICE_NAME_LABEL
from podplane.client.clientset import Client
from podplane.client.informer import Informer

Key = tuple[str, str]  # (namespace, name)
V = TypeVar("V", str, Key)


@dataclass(frozen=True)
class EndpointPort:
    name: str
    port: int
    protocol: str


@dataclass(frozen=True)
class Endpoint:
    """A ready address of a Service: its hostname (the EndpointSlice's, or the dashed address)
    and the ports it serves."""

    ip: str
    hostname: str
    ports: tuple[EndpointPort, ...]

    @property
    def ipv6(self) -> bool:
        return ":" in self.ip


def _ready(endpoint: discovery_pb2.Endpoint) -> bool:
    # An unset condition counts as true (the EndpointSlice API's rule).
    c = endpoint.conditions
    return not c.HasField("ready") or c.ready


def _ports(slice_: discovery_pb2.EndpointSlice) -> tuple[EndpointPort, ...]:
    return tuple(
        EndpointPort(p.name, p.port, p.protocol or "TCP")
        for p in slice_.ports
        if p.HasField("port")
    )


class ClusterCache:
    """Read by the record lookups (records.py); written by the informers' handlers only."""

    def __init__(self) -> None:
        self.services: dict[Key, service_pb2.Service] = {}
        self.slices: dict[Key, discovery_pb2.EndpointSlice] = {}
        self.namespaces: set[str] = set()
        self._service_ips: dict[str, set[Key]] = {}
        self._slices_of: dict[Key, set[Key]] = {}  # (namespace, service) -> slice keys
        self._slice_ips: dict[str, set[Key]] = {}
        self._pod_ips: dict[str, set[Key]] = {}
        self._pod_ip_of: dict[Key, str] = {}
        # When the cache last changed (Unix seconds): the zone's SOA serial, as CoreDNS's.
        self.modified = int(time.time())

    # ------------------------------------------------------------------ reads
    def namespace_exists(self, name: str) -> bool:
        return name in self.namespaces

    def service(self, namespace: str, name: str) -> service_pb2.Service | None:
        return self.services.get((namespace, name))

    def endpoints(self, namespace: str, service: str) -> list[Endpoint]:
        """The Service's ready endpoints, each address once, in a stable order."""
        found: dict[str, Endpoint] = {}
        for key in sorted(self._slices_of.get((namespace, service), ())):
            slice_ = self.slices[key]
            ports = _ports(slice_)
            for e in slice_.endpoints:
                if not _ready(e):
                    continue
                for ip in e.addresses:
                    if ip not in found:
                        found[ip] = Endpoint(ip, e.hostname or dashed(ip), ports)
        return list(found.values())

    def services_with_ip(self, ip: str) -> list[service_pb2.Service]:
        return [self.services[k] for k in sorted(self._service_ips.get(ip, ()))]

    def endpoints_with_ip(self, ip: str) -> list[tuple[str, str, Endpoint]]:
        """(namespace, service, endpoint) of every ready endpoint with the address."""
        out: list[tuple[str, str, Endpoint]] = []
        for key in sorted(self._slice_ips.get(ip, ())):
            slice_ = self.slices[key]
            service = slice_.metadata.labels.get(SERVICE_NAME_LABEL, "")
            for e in slice_.endpoints:
                if ip in e.addresses and _ready(e) and service:
                    out.append((key[0], service, Endpoint(ip, e.hostname or dashed(ip), ())))
        return out

    def pod_namespaces_with_ip(self, ip: str) -> set[str]:
        return {ns for ns, _ in self._pod_ips.get(ip, ())}

    # ------------------------------------------------------------------ writes
    def put_service(self, svc: service_pb2.Service) -> None:
        self.modified = int(time.time())
        key = (svc.metadata.namespace, svc.metadata.name)
        self.remove_service(key)
        self.services[key] = svc
        for ip in self._cluster_ips(svc):
            self._service_ips.setdefault(ip, set()).add(key)

    def remove_service(self, key: Key) -> None:
        self.modified = int(time.time())
        old = self.services.pop(key, None)
        if old is not None:
            for ip in self._cluster_ips(old):
                _discard(self._service_ips, ip, key)

    @staticmethod
    def _cluster_ips(svc: service_pb2.Service) -> list[str]:
        if not svc_helper.is_ip_set(svc):
            return []
        return [_normal(ip) for ip in (svc.spec.cluster_ips or [svc.spec.cluster_ip])]

    def put_slice(self, slice_: discovery_pb2.EndpointSlice) -> None:
        self.modified = int(time.time())
        key = (slice_.metadata.namespace, slice_.metadata.name)
        self.remove_slice(key)
        self.slices[key] = slice_
        service = slice_.metadata.labels.get(SERVICE_NAME_LABEL, "")
        if service:
            self._slices_of.setdefault((key[0], service), set()).add(key)
        for e in slice_.endpoints:
            for ip in e.addresses:
                self._slice_ips.setdefault(_normal(ip), set()).add(key)

    def remove_slice(self, key: Key) -> None:
        self.modified = int(time.time())
        old = self.slices.pop(key, None)
        if old is None:
            return
        service = old.metadata.labels.get(SERVICE_NAME_LABEL, "")
        if service:
            _discard(self._slices_of, (key[0], service), key)
        for e in old.endpoints:
            for ip in e.addresses:
                _discard(self._slice_ips, _normal(ip), key)

    def put_namespace(self, ns: core_pb2.Namespace) -> None:
        self.modified = int(time.time())
        self.namespaces.add(ns.metadata.name)

    def remove_namespace(self, name: str) -> None:
        self.modified = int(time.time())
        self.namespaces.discard(name)

    def put_pod(self, pod: core_pb2.Pod) -> None:
        self.modified = int(time.time())
        key = (pod.metadata.namespace, pod.metadata.name)
        self.remove_pod(key)
        # A host-network pod's IP is its node's: it names no pod (CoreDNS skips them too).
        if pod.status.pod_ip and not pod.spec.host_network:
            ip = _normal(pod.status.pod_ip)
            self._pod_ip_of[key] = ip
            self._pod_ips.setdefault(ip, set()).add(key)

    def remove_pod(self, key: Key) -> None:
        self.modified = int(time.time())
        ip = self._pod_ip_of.pop(key, None)
        if ip is not None:
            _discard(self._pod_ips, ip, key)


def _normal(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return ip


def _discard(index: dict[V, set[Key]], value: V, key: Key) -> None:
    keys = index.get(value)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del index[value]


class _Source(Protocol):
    """An informer, whatever its kind."""

    @property
    def has_synced(self) -> bool: ...

    async def run(self) -> None: ...

    async def wait_synced(self) -> None: ...


class ClusterWatch:
    """The informers that keep a ClusterCache: Services, EndpointSlices, namespaces and, for
    verified pod records, pods (CoreDNS's dnsController)."""

    def __init__(self, client: Client, cache: ClusterCache, watch_pods: bool) -> None:
        self.cache = cache
        services: Informer[service_pb2.Service] = Informer(client.services, name="services")
        services.add_handler(
            cache.put_service,
            lambda _, new: cache.put_service(new),
            lambda old: cache.remove_service(_key(old.metadata)),
        )
        slices: Informer[discovery_pb2.EndpointSlice] = Informer(
            client.endpointslices, name="endpointslices"
        )
        slices.add_handler(
            cache.put_slice,
            lambda _, new: cache.put_slice(new),
            lambda old: cache.remove_slice(_key(old.metadata)),
        )
        namespaces: Informer[core_pb2.Namespace] = Informer(client.namespaces, name="namespaces")
        namespaces.add_handler(
            cache.put_namespace,
            lambda _, new: cache.put_namespace(new),
            lambda old: cache.remove_namespace(old.metadata.name),
        )
        self.informers: list[_Source] = [services, slices, namespaces]
        if watch_pods:
            # Only pods with an IP name anything; the field selector leaves the others out.
            pods: Informer[core_pb2.Pod] = Informer(
                client.pods, field_selector="status.podIP!=", name="pods"
            )
            pods.add_handler(
                cache.put_pod,
                lambda _, new: cache.put_pod(new),
                lambda old: cache.remove_pod(_key(old.metadata)),
            )
            self.informers.append(pods)

    @property
    def synced(self) -> bool:
        return all(i.has_synced for i in self.informers)

    async def run(self) -> None:
        await asyncio.gather(*(i.run() for i in self.informers))

    async def wait_synced(self) -> None:
        await asyncio.gather(*(i.wait_synced() for i in self.informers))


def _key(meta: meta_pb2.ObjectMeta) -> Key:
    return (meta.namespace, meta.name)
