"""Network namespaces for kube-proxy's integration tests (root and iproute2 required): a "node"
whose iptables kube-proxy programs, a "pod" client and a "backend" with the endpoints' addresses,
joined by veth pairs through the node, which routes between them as a node routes its pods."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field

import pytest


def require_root_and_iproute() -> None:
    """These tests need root (network namespaces, iptables) and `ip`: their absence is a
    failure, never a skip."""
    if os.geteuid() != 0:
        pytest.fail("kube-proxy's namespace tests need root (ip netns, iptables)")
    for tool in ("ip", "iptables-restore", "iptables-save"):
        if shutil.which(tool) is None:
            pytest.fail(
                f"kube-proxy's namespace tests need {tool} (apt-get install iproute2 iptables)"
            )


@dataclass
class Netns:
    name: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def create(cls, role: str) -> Netns:
        ns = cls(f"kp-{role}-{uuid.uuid4().hex[:6]}")
        subprocess.run(["ip", "netns", "add", ns.name], check=True)
        ns.run("ip", "link", "set", "lo", "up")
        return ns

    @property
    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def run(
        self, *argv: str, check: bool = True, timeout: float = 20
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.prefix, *argv], check=check, capture_output=True, text=True, timeout=timeout
        )

    def start(self, *argv: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [*self.prefix, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.processes.append(process)
        return process

    def delete(self) -> None:
        for process in self.processes:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(["ip", "netns", "del", self.name], check=False)


def link(node: Netns, node_address: str, other: Netns, other_addresses: list[str]) -> None:
    """A veth pair: `node_address` (CIDR) on the node's side, `other_addresses` on the other's,
    whose default route is the node."""
    here, there = f"v{uuid.uuid4().hex[:8]}", f"v{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "link", "add", here, "type", "veth", "peer", "name", there], check=True)
    subprocess.run(["ip", "link", "set", here, "netns", node.name], check=True)
    subprocess.run(["ip", "link", "set", there, "netns", other.name], check=True)
    node.run("ip", "addr", "add", node_address, "dev", here)
    node.run("ip", "link", "set", here, "up")
    for address in other_addresses:
        other.run("ip", "addr", "add", address, "dev", there)
    other.run("ip", "link", "set", there, "up")
    other.run("ip", "route", "add", "default", "via", node_address.split("/")[0])


def uplink(node: Netns) -> None:
    """A default route out of the node, as a machine has: without one, a packet to a cluster IP
    that kube-proxy does not DNAT is answered "network unreachable" by the routing decision,
    before the filter table's REJECT sees it."""
    # A veth pair inside the node (this kernel may have no dummy interfaces); nothing answers
    # on the far end.
    node.run("ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1")
    node.run("ip", "addr", "add", "192.168.255.1/24", "dev", "uplink0")
    node.run("ip", "link", "set", "uplink0", "up")
    node.run("ip", "link", "set", "uplink1", "up")
    node.run("ip", "route", "add", "default", "via", "192.168.255.254")
