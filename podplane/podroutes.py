"""Routes to the other nodes' pods, as flannel's host-gw backend programs them: for every other
Node with a podCIDR and an InternalIP, `ip route replace <podCIDR> via <InternalIP>` on this
machine, and the route deleted when the Node goes or moves. Every node keeps them in its network
agent (python -m netpol --pod-routes: docker/node-entrypoint.sh, POD_ROUTES=api) with the node's
own credentials, so a worker that joins later is reached from every node without any of them
being told about it; a machine that is no node, on its own (python -m adm pod-routes: the compose
apiserver's)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from podplane.client.informer import Informer

log = logging.getLogger(__name__)

# `ip route` over an argument list (replace, del): the system's, or a test's.
IpRoute = Callable[[list[str]], None]


def ip_route(args: list[str]) -> None:
    subprocess.run(["ip", "route", *args], check=True, capture_output=True, text=True)


# The machine's IPv4 routes of the main table, as the kernel lists them (the reader's network
# namespace): reading it costs no process, where `ip route` is one.
ROUTE_TABLE = Path("/proc/net/route")


def routes_via(table: Path = ROUTE_TABLE) -> dict[str, str]:
    """CIDR -> gateway of each route through a gateway (the fields are little-endian hex)."""
    found: dict[str, str] = {}
    try:
        lines = table.read_text().splitlines()[1:]
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) < 8 or int(fields[2], 16) == 0:
            continue
        destination, gateway = (
            socket.inet_ntoa(struct.pack("<I", int(f, 16))) for f in (fields[1], fields[2])
        )
        prefix = bin(int(fields[7], 16)).count("1")
        found[f"{destination}/{prefix}"] = gateway
    return found


def internal_ip(node: core_pb2.Node) -> str:
    return next((a.address for a in node.status.addresses if a.type == "InternalIP"), "")


def node_route(node: core_pb2.Node, own: str) -> tuple[str, str] | None:
    """(podCIDR, gateway) of another node that has both (an IPv4 CIDR: the pod bridges)."""
    cidr, gateway = node.spec.pod_cidr, internal_ip(node)
    if node.metadata.name == own or not cidr or not gateway:
        return None
    try:
        if ipaddress.ip_network(cidr).version != 4:
            return None
    except ValueError:
        return None
    return cidr, gateway


class PodRoutes:
    """Keeps this machine's routes to the other nodes' pod CIDRs as the Nodes say. A Node event
    marks its node, and a sync works out the route of the marked nodes only, so registering many
    nodes (a load test's thousand hollow ones) costs each event one route, not all of them."""

    def __init__(
        self,
        client: Client,
        own: str,
        route: IpRoute = ip_route,
        present: Callable[[], dict[str, str]] = routes_via,
    ) -> None:
        self.own = own
        self.route = route
        self.present = present
        self.nodes: Informer[core_pb2.Node] = Informer(client.nodes)
        # Each node's route as last worked out, the nodes to work out again, and the routes made.
        self._routes: dict[str, tuple[str, str]] = {}
        self._dirty: set[str] = set()
        self.programmed: dict[str, str] = {}
        self._changed = asyncio.Event()
        self.nodes.add_handler(self._mark, lambda _old, new: self._mark(new), self._mark)

    def _mark(self, node: core_pb2.Node) -> None:
        self._dirty.add(node.metadata.name)
        self._changed.set()

    def sync(self) -> None:
        """Programs what differs between the Nodes and the routes made so far."""
        dirty, self._dirty = self._dirty, set()
        for name in dirty:
            node = self.nodes.get(name)
            route = node_route(node, self.own) if node is not None else None
            if route is None:
                self._routes.pop(name, None)
            else:
                self._routes[name] = route
        want = dict(self._routes.values())
        for cidr in [c for c in self.programmed if c not in want]:
            try:
                self.route(["del", cidr])
                log.info("route %s removed", cidr)
            except (OSError, subprocess.CalledProcessError) as e:
                log.warning("removing the route %s: %s", cidr, e)
            del self.programmed[cidr]
        for cidr, gateway in want.items():
            if self.programmed.get(cidr) == gateway:
                continue
            try:
                self.route(["replace", cidr, "via", gateway])
                self.programmed[cidr] = gateway
                log.info("route %s via %s", cidr, gateway)
            except (OSError, subprocess.CalledProcessError) as e:
                log.warning("route %s via %s: %s", cidr, gateway, e)

    def forget_missing(self) -> None:
        """A route made that the machine no longer has (someone removed or changed it) is made
        again at the next sync, as flannel's route check puts it back."""
        present = self.present()
        for cidr, gateway in list(self.programmed.items()):
            if present.get(cidr) != gateway:
                log.info("route %s via %s is gone from the machine", cidr, gateway)
                del self.programmed[cidr]

    async def run(self, resync: float = 30.0) -> None:
        watching = asyncio.create_task(self.nodes.run())
        try:
            while True:
                try:
                    async with asyncio.timeout(resync):
                        await self._changed.wait()
                except TimeoutError:
                    self.forget_missing()
                self._changed.clear()
                self.sync()
        finally:
            watching.cancel()
