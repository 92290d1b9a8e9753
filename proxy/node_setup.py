"""What kube-proxy checks and sets on its node before the first sync (NewProxier): the sysctls
the rules rely on, and the node's address toward the apiserver."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

log = logging.getLogger(__name__)

SYSCTL = Path("/proc/sys")
ROUTE_LOCALNET = "net/ipv4/conf/all/route_localnet"
TCP_BE_LIBERAL = "net/netfilter/nf_conntrack_tcp_be_liberal"
BRIDGE_CALL_IPTABLES = "net/bridge/bridge-nf-call-iptables"


def read_sysctl(name: str, root: Path = SYSCTL) -> int | None:
    try:
        return int((root / name).read_text().strip())
    except (OSError, ValueError):
        return None


def ensure_sysctl(name: str, value: int, root: Path = SYSCTL) -> bool:
    """Sets the sysctl unless it has the value already; False if it cannot be set."""
    if read_sysctl(name, root) == value:
        return True
    try:
        (root / name).write_text(f"{value}\n")
    except OSError as e:
        log.error("cannot set %s=%d: %s", name.replace("/", "."), value, e.strerror or e)
        return False
    log.info("set %s=%d", name.replace("/", "."), value)
    return True


def check_bridge_netfilter(root: Path = SYSCTL) -> None:
    """Pods on one bridge reach each other through a service only if bridged traffic goes
    through iptables (br_netfilter): say so when it does not."""
    if read_sysctl(BRIDGE_CALL_IPTABLES, root) not in (None, 1):
        log.warning(
            "bridge-nf-call-iptables is off: pods may not reach a service's endpoints on their "
            "own bridge"
        )


def node_ip(server: str) -> str:
    """The local address the kernel uses to reach the apiserver ("" if it cannot tell)."""
    host, _, port = server.rpartition(":")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_DGRAM)
        infos.sort(key=lambda info: info[0] != socket.AF_INET)
        family, _, _, _, address = infos[0]
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect(address)  # UDP: no packet is sent, only a route is chosen
            return str(s.getsockname()[0])
    except (OSError, ValueError):
        return ""
