"""Keeps pods off nodes marked spec.unschedulable (cordoned), unless the pod tolerates the
node.kubernetes.io/unschedulable:NoSchedule taint (kubernetes plugins/nodeunschedulable)."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.node_table import Bools, NodeTable
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins.helper import taints

NAME = "NodeUnschedulable"
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


class NodeUnschedulable:
    name = NAME

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        if not node.unschedulable:
            return SUCCESS
        if taints.tolerated(pod.spec.tolerations, TAINT_NODE_UNSCHEDULABLE):
            return SUCCESS
        return Status.unresolvable(ERR_REASON_UNSCHEDULABLE)

    def filter_table(self, state: CycleState, pod: core_pb2.Pod, table: NodeTable) -> Bools | None:
        return ~table.unschedulable


def new(args: PluginArgs) -> NodeUnschedulable:
    return NodeUnschedulable()
