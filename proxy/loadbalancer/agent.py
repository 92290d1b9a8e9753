"""kube-proxy's load balancer side: the health check node ports of this node's Local load
balancers (service_health.py) and, with --announce-load-balancer-ips, the load balancer
addresses this node announces (election.py) added to the interface that holds the node's
address, as a /32 labelled <interface>:lb, each with a gratuitous ARP: the Docker bridge (or any
layer 2 segment) then delivers the address's packets to this node, whose rules (KUBE-SERVICES,
KUBE-EXT-, KUBE-FW-) take them to the endpoints. Addresses it no longer announces are deleted;
its addresses stay when kube-proxy stops, as its rules do, until the next one decides."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2, service_pb2
from podplane.api.discovery.v1 import discovery_pb2
from podplane.apimachinery import service as svcutil
from podplane.client.informer import Informer
from proxy.loadbalancer import election
from proxy.loadbalancer.netlink import Netlink, gratuitous_arp, label_for
from proxy.loadbalancer.service_health import ServiceHealthServer
from proxy.state.service_port import ServiceName

log = logging.getLogger(__name__)

RETRY_AFTER = 5.0


@dataclass(frozen=True)
class LoadBalancerOptions:
    announce: bool = False
    # This node's address (the one toward the apiserver): its interface gets the addresses.
    node_ip: str = ""
    load_balancer_class: str = ""
    health_check_host: str = "0.0.0.0"


class LoadBalancerAgent:
    def __init__(
        self,
        hostname: str,
        options: LoadBalancerOptions,
        services: Informer[service_pb2.Service],
        slices: Informer[discovery_pb2.EndpointSlice],
        nodes: Informer[core_pb2.Node] | None,
        health: ServiceHealthServer,
        *,
        netlink: Callable[[], Netlink] = Netlink,
        arp: Callable[[str, str], None] = gratuitous_arp,
    ) -> None:
        self.hostname = hostname
        self.options = options
        self.services = services
        self.slices = slices
        self.nodes = nodes
        self.health = health
        self._netlink = netlink
        self._arp = arp
        self._changed = asyncio.Event()
        self.announced: set[str] = set()

    def changed(self, *_: object) -> None:
        self._changed.set()

    def node_updated(self, old: core_pb2.Node, new: core_pb2.Node) -> None:
        """Only what the choice reads: a node's heartbeats change nothing."""
        if election.node_may_announce(old) != election.node_may_announce(new):
            self._changed.set()

    def _slices_of(self, svc: service_pb2.Service) -> list[discovery_pb2.EndpointSlice]:
        return [
            s
            for s in self.slices.list()
            if s.metadata.namespace == svc.metadata.namespace
            and s.metadata.labels.get(svcutil.SERVICE_NAME_LABEL) == svc.metadata.name
        ]

    def health_check_ports(self) -> dict[ServiceName, int]:
        return {
            ServiceName(s.metadata.namespace, s.metadata.name): s.spec.health_check_node_port
            for s in self.services.list()
            if svcutil.needs_health_check(s) and s.spec.health_check_node_port
        }

    def wanted_addresses(self) -> set[str]:
        if self.nodes is None:
            return set()
        return election.announced_by(
            self.hostname,
            self.services.list(),
            self._slices_of,
            self.nodes.list(),
            self.options.load_balancer_class,
        )

    async def run(self) -> None:
        """Syncs after every change, until cancelled."""
        await asyncio.gather(self.services.wait_synced(), self.slices.wait_synced())
        if self.nodes is not None:
            await self.nodes.wait_synced()
        self._changed.set()
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                await self.sync()
            except OSError as e:
                log.error("load balancer addresses: %s (again in %.0fs)", e, RETRY_AFTER)
                asyncio.get_running_loop().call_later(RETRY_AFTER, self._changed.set)

    async def sync(self) -> None:
        await self.health.sync(self.health_check_ports())
        if self.options.announce:
            await asyncio.to_thread(self._apply, self.wanted_addresses())

    def _apply(self, wanted: set[str]) -> None:
        netlink = self._netlink()
        try:
            addresses = netlink.addresses()
            node = next((a for a in addresses if a.ip == self.options.node_ip), None)
            if node is None:
                raise OSError(f"no interface holds the node's address {self.options.node_ip!r}")
            # A primary address's label is its interface's name.
            index, interface = node.index, node.label.partition(":")[0]
            label = label_for(interface)
            current = {
                a.ip
                for a in addresses
                if a.index == index and a.label == label and a.prefixlen == 32
            }
            for ip in sorted(wanted - current):
                netlink.add(index, ip, label)
                self._arp(interface, ip)
                log.info("announcing load balancer address %s on %s", ip, interface)
            for ip in sorted(current - wanted):
                netlink.delete(index, ip)
                log.info("no longer announcing load balancer address %s on %s", ip, interface)
            self.announced = set(wanted)
        finally:
            netlink.close()
