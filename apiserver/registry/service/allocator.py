"""Cluster IPs and node ports, allocated and released in the same etcd transaction as the Service
that holds them (kubernetes pkg/registry/core/service/storage/alloc.go's rules, over a storage of
its own).

Each allocated value is a key of its own, /registry/ranges/serviceips/<ip> and
/registry/ranges/servicenodeports/<port>, whose value names the Service holding it. A create
writes the Service and creates the keys of its values in one transaction that requires each key
to be absent; an update creates the keys of the values it adds and deletes those of the values
it drops, compared against the Service's revision; a delete removes the Service and its keys
together. So two Services can never hold one value, and no value outlives its Service, whatever
writes run at once, in one apiserver or several, across restarts: the transaction fails as a
whole when a value was taken meanwhile, and the write is tried again with a fresh choice (or
refused, for a value the request named).

Kubernetes keeps a bitmap per range in one etcd key (a RangeAllocation), claims in it before
writing the Service and releases afterwards, and needs its repair controller for what a crash
between the two leaves behind; here nothing can be left behind (repair.py only checks)."""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass

from apiserver import errors
from apiserver.registry.generic.claims import Claims
from apiserver.registry.service import ipallocator, portallocator
from apiserver.registry.service.ipallocator import IPRange, RangeFull
from apiserver.registry.service.ipfamilies import init_ip_family_fields
from apiserver.registry.service.portallocator import PortRange
from apiserver.storage.etcd import EtcdClient
from apiserver.validation import fields
from apiserver.validation.fields import FieldError, invalid_error
from apiserver.validation.network import go_strings
from podplane.api.core.v1 import service_pb2
from podplane.apimachinery import resources
from podplane.apimachinery import service as svc_helper
from podplane.apimachinery.service import (
    CLUSTER_IP_NONE,
)

IP_PREFIX = b"/registry/ranges/serviceips/"
NODE_PORT_PREFIX = b"/registry/ranges/servicenodeports/"
ALREADY_ALLOCATED_IP = "provided IP is already allocated"
ALREADY_ALLOCATED_PORT = "provided port is already allocated"


def ip_key(address: str) -> bytes:
    """The claim key of an address, in its canonical form (one key per address however it is
    spelled)."""
    return IP_PREFIX + str(ipaddress.ip_address(address)).encode()


def node_port_key(port: int) -> bytes:
    return NODE_PORT_PREFIX + str(port).encode()


def owner_record(svc: service_pb2.Service) -> bytes:
    """What a claim key holds: the Service that holds the value."""
    meta = svc.metadata
    return json.dumps({"namespace": meta.namespace, "name": meta.name, "uid": meta.uid}).encode()


def held_ips(svc: service_pb2.Service) -> list[str]:
    """The cluster IPs a stored Service holds."""
    if not svc_helper.needs_cluster_ip(svc):
        return []
    return [ip for ip in svc.spec.cluster_ips if ip not in ("", CLUSTER_IP_NONE)]


def held_ports(svc: service_pb2.Service) -> set[int]:
    """The node ports (health check port included) a stored Service holds."""
    ports = set()
    if svc_helper.needs_node_port(svc):
        ports = {p.node_port for p in svc.spec.ports if p.node_port}
    if svc_helper.needs_health_check(svc) and svc.spec.health_check_node_port:
        ports.add(svc.spec.health_check_node_port)
    return ports


def held_keys(svc: service_pb2.Service) -> set[bytes]:
    return {ip_key(ip) for ip in held_ips(svc)} | {node_port_key(p) for p in held_ports(svc)}


@dataclass
class _Wanted:
    """What a write asks of the pools: the values it names that are new, and the slots left to
    fill."""

    ips: list[tuple[int, str]]  # (index in clusterIPs, address) named by the request
    ip_slots: list[int]  # indices in clusterIPs to allocate
    ports: list[tuple[str, int]]  # (field path, port) named by the request
    port_slots: list[int]  # indices in spec.ports to allocate
    health_check: int  # a requested health check port, 0 if none
    health_check_slot: bool


def _invalid(svc: service_pb2.Service, errs: list[FieldError]) -> errors.APIError:
    return invalid_error(resources.SERVICE.kind, svc.metadata.name, errs)


class ServiceAllocator:
    """The store hook (apiserver.registry.generic.claims.Allocator) of the services resource."""

    def __init__(
        self,
        etcd: EtcdClient,
        cluster_ip_range: str = ipallocator.DEFAULT_SERVICE_CIDR,
        node_port_range: str = portallocator.DEFAULT_NODE_PORT_RANGE,
        rng: random.Random | None = None,
    ) -> None:
        self.etcd = etcd
        self.ip_range = IPRange.parse(cluster_ip_range)
        self.port_range = PortRange.parse(node_port_range)
        self.families = (self.ip_range.family,)
        self.rng = rng or random.SystemRandom()

    # ------------------------------------------------------------------ before validation
    def prepare(self, new: service_pb2.Service, old: service_pb2.Service | None) -> None:
        """The IP family fields, settled before validation (ipfamilies.py)."""
        init_ip_family_fields(new, old, self.families)

    # ------------------------------------------------------------------ after validation
    async def allocate(
        self, new: service_pb2.Service, old: service_pb2.Service | None, *, dry_run: bool
    ) -> Claims:
        """Fills the cluster IPs and node ports left empty, checks those the request names, and
        returns the keys of the values `new` takes (claimed) and `old` had and `new` drops
        (released)."""
        wanted = self._wanted(new, old)
        self._check_ranges(new, wanted)
        taken_ips: set[int] = set()
        taken_ports: set[int] = set()
        if wanted.ips or wanted.ip_slots:
            taken_ips = await self._allocated_ips()
        if wanted.ports or wanted.port_slots or wanted.health_check or wanted.health_check_slot:
            taken_ports = await self._allocated_ports()
        self._check_free(new, wanted, taken_ips, taken_ports)
        self._fill(new, wanted, taken_ips, taken_ports)
        claims_now = held_keys(new)
        before = held_keys(old) if old is not None else set()
        owner = owner_record(new)
        return Claims(
            claim={key: owner for key in sorted(claims_now - before)},
            release=tuple(sorted(before - claims_now)),
        )

    def release(self, old: service_pb2.Service) -> Claims:
        return Claims(release=tuple(sorted(held_keys(old))))

    def _wanted(self, new: service_pb2.Service, old: service_pb2.Service | None) -> _Wanted:
        spec = new.spec
        had_ips = set(held_ips(old)) if old is not None else set()
        had_ports = held_ports(old) if old is not None else set()
        ips: list[tuple[int, str]] = []
        ip_slots: list[int] = []
        if svc_helper.needs_cluster_ip(new) and not svc_helper.is_headless(new):
            ips = [
                (i, ip)
                for i, ip in enumerate(spec.cluster_ips)
                if ip and ip != CLUSTER_IP_NONE and ip not in had_ips
            ]
            ip_slots = [
                i
                for i in range(len(spec.ip_families))
                if i >= len(spec.cluster_ips) or not spec.cluster_ips[i]
            ]
        ports: list[tuple[str, int]] = []
        port_slots: list[int] = []
        if svc_helper.needs_node_port(new):
            allocate = svc_helper.should_allocate_node_ports(new)
            for i, port in enumerate(spec.ports):
                if port.node_port:
                    if port.node_port not in had_ports:
                        ports.append((f"spec.ports[{i}].nodePort", port.node_port))
                elif allocate:
                    port_slots.append(i)
        health_check, health_check_slot = 0, False
        if svc_helper.needs_health_check(new):
            hc = spec.health_check_node_port
            if not hc:
                health_check_slot = True
            elif hc not in had_ports:
                health_check = hc
        return _Wanted(ips, ip_slots, ports, port_slots, health_check, health_check_slot)

    def _ip_error(self, new: service_pb2.Service, ip: str, why: str) -> errors.APIError:
        return _invalid(
            new,
            [
                fields.invalid(
                    "spec.clusterIPs",
                    go_strings(new.spec.cluster_ips),
                    f"failed to allocate IP {ip}: {why}",
                )
            ],
        )

    def _check_ranges(self, new: service_pb2.Service, wanted: _Wanted) -> None:
        for _, ip in wanted.ips:
            if self.ip_range.index(ip) is None:
                raise self._ip_error(new, ip, self.ip_range.not_in_range(ip))
        for path, port in wanted.ports:
            if not self.port_range.contains(port):
                raise _invalid(new, [fields.invalid(path, port, self.port_range.not_in_range())])
        if wanted.health_check and not self.port_range.contains(wanted.health_check):
            raise _health_check_error(wanted.health_check, self.port_range.not_in_range())

    def _check_free(
        self,
        new: service_pb2.Service,
        wanted: _Wanted,
        taken_ips: set[int],
        taken_ports: set[int],
    ) -> None:
        for _, ip in wanted.ips:
            if self.ip_range.index(ip) in taken_ips:
                raise self._ip_error(new, ip, ALREADY_ALLOCATED_IP)
        for path, port in wanted.ports:
            if port in taken_ports:
                raise _invalid(new, [fields.invalid(path, port, ALREADY_ALLOCATED_PORT)])
        if wanted.health_check in taken_ports:
            raise _health_check_error(wanted.health_check, ALREADY_ALLOCATED_PORT)

    def _fill(
        self,
        new: service_pb2.Service,
        wanted: _Wanted,
        taken_ips: set[int],
        taken_ports: set[int],
    ) -> None:
        spec = new.spec
        used_ips = taken_ips | _indices(self.ip_range, (ip for _, ip in wanted.ips))
        for slot in wanted.ip_slots:
            try:
                address = self.ip_range.pick(used_ips, self.rng)
            except RangeFull as e:
                raise errors.internal(f"failed to allocate a serviceIP: {e}") from None
            used_ips |= _indices(self.ip_range, [address])
            while len(spec.cluster_ips) <= slot:
                spec.cluster_ips.append("")
            spec.cluster_ips[slot] = address
        if spec.cluster_ips and svc_helper.needs_cluster_ip(new):
            spec.cluster_ip = spec.cluster_ips[0]
        used_ports = taken_ports | {p.node_port for p in spec.ports if p.node_port}
        used_ports.add(spec.health_check_node_port)
        by_port_number = {p.port: p.node_port for p in spec.ports if p.node_port}
        for i in wanted.port_slots:
            port = spec.ports[i]
            if port.port in by_port_number:  # TCP and UDP of one port share a node port
                port.node_port = by_port_number[port.port]
                continue
            try:
                port.node_port = self.port_range.pick(used_ports, self.rng)
            except RangeFull as e:
                raise errors.internal(f"failed to allocate a nodePort: {e}") from None
            used_ports.add(port.node_port)
            by_port_number[port.port] = port.node_port
        if wanted.health_check_slot:
            try:
                spec.health_check_node_port = self.port_range.pick(used_ports, self.rng)
            except RangeFull as e:
                raise errors.internal(f"failed to allocate a HealthCheck NodePort 0: {e}") from None

    # ------------------------------------------------------------------ what etcd holds
    async def _allocated_ips(self) -> set[int]:
        keys, _ = await self.etcd.keys(IP_PREFIX)
        return _indices(self.ip_range, (k[len(IP_PREFIX) :].decode() for k in keys))

    async def _allocated_ports(self) -> set[int]:
        keys, _ = await self.etcd.keys(NODE_PORT_PREFIX)
        return {int(k[len(NODE_PORT_PREFIX) :]) for k in keys}


def _indices(ip_range: IPRange, addresses: Iterable[str]) -> set[int]:
    out = set()
    for address in addresses:
        index = ip_range.index(address)
        if index is not None:
            out.add(index)
    return out


def _health_check_error(port: int, why: str) -> errors.APIError:
    return errors.internal(f"failed to allocate requested HealthCheck NodePort {port}: {why}")
