"""A pod that names a node in spec.nodeName fits only that node (kubernetes plugins/nodename)."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from scheduler.framework import cluster_events as ce
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = NAME
    # Its Filter reads the node alone, not the pods on it (interfaces.NodeOnlyFilter).
    filter_reads_node_only = True

    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        """Skip for the usual pod, which names no node: saves a check per node."""
        return SUCCESS if pod.spec.node_name else Status.skip()

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        if not pod.spec.node_name or pod.spec.node_name == node.name:
            return SUCCESS
        return Status.unresolvable(ERR_REASON)

    def events_to_register(self) -> tuple[ce.ClusterEventWithHint, ...]:
        return ce.on_nodes(_after_node_change, ce.NODE_ADD, ce.NODE_UPDATE)


def _after_node_change(pod: core_pb2.Pod, old: object, new: object) -> ce.QueueingHint:
    """The node the pod names, added (isSchedulableAfterNodeChange)."""
    return ce.became(lambda node: node.metadata.name == pod.spec.node_name, old, new)


def new(args: PluginArgs) -> NodeName:
    return NodeName()
