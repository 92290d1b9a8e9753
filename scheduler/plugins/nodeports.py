"""Fits a pod only on nodes where the host ports it asks for are free: same port and protocol on
the same host IP, or on any IP when either side binds 0.0.0.0 (kubernetes plugins/nodeports; the
port rules are framework/host_ports.py's, framework.HostPortInfo)."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from scheduler.framework import cluster_events
from scheduler.framework.host_ports import HostPort, host_ports
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
_PRE_FILTER_KEY = "PreFilter" + NAME


class _WantedPorts(tuple[HostPort, ...]):
    """The host ports the pod being scheduled asks for."""


def fits_ports(wanted: tuple[HostPort, ...], node: NodeInfo) -> bool:
    # Each pod's ports read once, when first asked for, not on every node of every attempt.
    used = [port for info in node.pods.values() for port in info.host_ports]
    return not any(w.conflicts(u) for w in wanted for u in used)


class NodePorts:
    name = NAME

    def events_to_register(self) -> tuple[cluster_events.ClusterEventWithHint, ...]:
        return (
            cluster_events.ClusterEventWithHint(cluster_events.ASSIGNED_POD_DELETE, _after_delete),
            cluster_events.queue_always(cluster_events.NODE_ADD),
        )

    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        wanted = state.pod_info(pod).host_ports
        if not wanted:
            return Status.skip()
        state.write(_PRE_FILTER_KEY, _WantedPorts(wanted))
        return SUCCESS

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        wanted = state.read(_PRE_FILTER_KEY, _WantedPorts)
        if wanted is None:
            return Status.error(f"{NAME}: PreFilter state is missing")
        return SUCCESS if fits_ports(wanted, node) else Status.unschedulable(ERR_REASON)


def _after_delete(pod: core_pb2.Pod, old: object, new: object) -> cluster_events.QueueingHint:
    """A bound pod deleted frees its host ports: it helps a pod that wants one of them
    (isSchedulableAfterPodDeleted)."""
    deleted = cluster_events.as_pod(old)
    if deleted is None:
        return cluster_events.QueueingHint.QUEUE
    if not deleted.spec.node_name:
        return cluster_events.QueueingHint.SKIP
    freed = host_ports(deleted)
    wanted = host_ports(pod)
    if any(w.conflicts(f) for w in wanted for f in freed):
        return cluster_events.QueueingHint.QUEUE
    return cluster_events.QueueingHint.SKIP


def new(args: PluginArgs) -> NodePorts:
    return NodePorts()
