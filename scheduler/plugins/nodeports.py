"""Fits a pod only on nodes where the host ports it asks for are free: same port and protocol on
the same host IP, or on any IP when either side binds 0.0.0.0 (kubernetes plugins/nodeports and
framework.HostPortInfo)."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2
from scheduler.framework import cluster_events
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
_PRE_FILTER_KEY = "PreFilter" + NAME
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


class _WantedPorts(list[HostPort]):
    """The host ports the pod being scheduled asks for."""


def host_ports(pod: core_pb2.Pod) -> list[HostPort]:
    """The pod's ports with a hostPort, with Kubernetes' defaults for the IP and protocol."""
    return [
        HostPort(p.host_ip or DEFAULT_BIND_ALL_HOST_IP, p.protocol or DEFAULT_PROTOCOL, p.host_port)
        for c in pod.spec.containers
        for p in c.ports
        if p.host_port > 0
    ]


def fits_ports(wanted: list[HostPort], node: NodeInfo) -> bool:
    used = [port for info in node.pods.values() for port in host_ports(info.pod)]
    return not any(w.conflicts(u) for w in wanted for u in used)


class NodePorts:
    name = NAME

    def events_to_register(self) -> tuple[str, ...]:
        return (cluster_events.ASSIGNED_POD_DELETE, cluster_events.NODE_ADD)

    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        wanted = host_ports(pod)
        if not wanted:
            return Status.skip()
        state.write(_PRE_FILTER_KEY, _WantedPorts(wanted))
        return SUCCESS

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        wanted = state.read(_PRE_FILTER_KEY, _WantedPorts)
        if wanted is None:
            return Status.error(f"{NAME}: PreFilter state is missing")
        return SUCCESS if fits_ports(wanted, node) else Status.unschedulable(ERR_REASON)


def new(args: PluginArgs) -> NodePorts:
    return NodePorts()
