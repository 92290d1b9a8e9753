"""The host ports a pod takes on its node: same port and protocol on the same host IP, or on any IP
when either side binds 0.0.0.0, conflict (kubernetes framework.HostPortInfo)."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2

DEFAULT_BIND_ALL_HOST_IP = "0.0.0.0"
DEFAULT_PROTOCOL = "TCP"


@dataclass(frozen=True)
class HostPort:
    ip: str
    protocol: str
    port: int

    def conflicts(self, other: HostPort) -> bool:
        if self.port != other.port or self.protocol != other.protocol:
            return False
        return DEFAULT_BIND_ALL_HOST_IP in (self.ip, other.ip) or self.ip == other.ip


def host_ports(pod: core_pb2.Pod) -> tuple[HostPort, ...]:
    """The pod's ports with a hostPort, with Kubernetes' defaults for the IP and protocol."""
    return tuple(
        HostPort(p.host_ip or DEFAULT_BIND_ALL_HOST_IP, p.protocol or DEFAULT_PROTOCOL, p.host_port)
        for c in pod.spec.containers
        for p in c.ports
        if p.host_port > 0
    )
