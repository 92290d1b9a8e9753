"""The default address pool: addresses .200 to .250 of the last /24 of the network the
controller-manager reaches the apiserver on, as kind's guide to MetalLB picks one in its Docker
network (172.18.255.200-172.18.255.250 in 172.18.0.0/16). In the compose cluster that is the
network the nodes and the host's bridge share, so the host and every node reach an address a node
announces there. None on a loopback or point-to-point route, or a network smaller than a /24."""

from __future__ import annotations

import ipaddress
import logging
import socket
from pathlib import Path

log = logging.getLogger(__name__)

ROUTES = Path("/proc/net/route")


def local_address(server: str) -> str:
    """The local IPv4 address the kernel uses toward `server` (HOST:PORT); OSError while the
    name does not resolve (a compose service not started yet) or no route leads there."""
    host, _, port = server.rpartition(":")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), int(port or 0), socket.AF_INET)
    except (socket.gaierror, ValueError) as e:
        raise OSError(f"cannot resolve {server}: {e}") from e
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(infos[0][4])  # UDP: a route is chosen, nothing is sent
        return str(s.getsockname()[0])


def connected_network(address: str, routes: str) -> ipaddress.IPv4Network | None:
    """The directly connected (gateway-less) route of /proc/net/route's text that holds
    `address`, the longest if several."""
    ip = ipaddress.IPv4Address(address)
    best: ipaddress.IPv4Network | None = None
    for line in routes.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or int(fields[2], 16) != 0:
            continue
        # Little-endian hexadecimal, as the kernel prints them.
        dest = ipaddress.IPv4Address(int.from_bytes(bytes.fromhex(fields[1]), "little"))
        mask = ipaddress.IPv4Address(int.from_bytes(bytes.fromhex(fields[7]), "little"))
        try:
            net = ipaddress.IPv4Network(f"{dest}/{mask}")
        except ValueError:
            continue
        if net.prefixlen and ip in net and (best is None or net.prefixlen > best.prefixlen):
            best = net
    return best


def pool_for(network: ipaddress.IPv4Network) -> str:
    """Addresses .200-.250 of the network's last /24; "" for a loopback network or one smaller
    than a /24."""
    if network.is_loopback or network.prefixlen > 24:
        return ""
    last = ipaddress.IPv4Network((int(network.broadcast_address) & ~0xFF, 24))
    return f"{last[200]}-{last[250]}"


def default_pool(server: str, routes: Path = ROUTES) -> str:
    """The default pool toward `server`; "" on loopback or without a suitable network; OSError
    while `server` does not resolve."""
    address = local_address(server)
    if ipaddress.IPv4Address(address).is_loopback:
        return ""
    network = connected_network(address, routes.read_text())
    return pool_for(network) if network is not None else ""
