"""Keeps pods off nodes whose Ready condition is not True.

Kubernetes does this through the node.kubernetes.io/not-ready:NoSchedule taint that its node
lifecycle controller sets; no podplane controller sets it yet, so this filter reads the condition
itself, and a pod that tolerates that taint (a DaemonSet's, say) passes here as it would there."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from scheduler.framework import cluster_events as ce
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.node_table import Bools, NodeTable
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins.helper import taints

NAME = "NodeReady"
ERR_REASON_NOT_READY = "node(s) were not ready"
TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"


class NodeReady:
    name = NAME
    # Its Filter reads the node alone, not the pods on it (interfaces.NodeOnlyFilter).
    filter_reads_node_only = True

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        if node.ready or taints.tolerated(pod.spec.tolerations, TAINT_NODE_NOT_READY):
            return SUCCESS
        return Status.unresolvable(ERR_REASON_NOT_READY)

    def filter_table(self, state: CycleState, pod: core_pb2.Pod, table: NodeTable) -> Bools | None:
        return table.ready

    def events_to_register(self) -> tuple[ce.ClusterEventWithHint, ...]:
        return ce.on_nodes(_after_node_change, ce.NODE_ADD, ce.NODE_UPDATE)


def _ready_for(pod: core_pb2.Pod, node: core_pb2.Node) -> bool:
    ready = any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
    return ready or taints.tolerated(pod.spec.tolerations, TAINT_NODE_NOT_READY)


def _after_node_change(pod: core_pb2.Pod, old: object, new: object) -> ce.QueueingHint:
    """A node added Ready, or become Ready."""
    return ce.became(lambda node: _ready_for(pod, node), old, new)


def new(args: PluginArgs) -> NodeReady:
    return NodeReady()
