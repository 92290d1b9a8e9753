"""Keeps pods off nodes marked spec.unschedulable (cordoned), unless the pod tolerates the
node.kubernetes.io/unschedulable:NoSchedule taint (kubernetes plugins/nodeunschedulable)."""

from __future__ import annotations

import functools

from podplane.api.core.v1 import core_pb2
from scheduler.framework import cluster_events as ce
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
    # Its Filter reads the node alone, not the pods on it (interfaces.NodeOnlyFilter).
    filter_reads_node_only = True

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        if not node.unschedulable:
            return SUCCESS
        if taints.tolerated(pod.spec.tolerations, TAINT_NODE_UNSCHEDULABLE):
            return SUCCESS
        return Status.unresolvable(ERR_REASON_UNSCHEDULABLE)

    def filter_table(self, state: CycleState, pod: core_pb2.Pod, table: NodeTable) -> Bools | None:
        return ~table.unschedulable

    def events_to_register(self) -> tuple[ce.ClusterEventWithHint, ...]:
        return ce.on_nodes(_after_node_change, ce.NODE_ADD, ce.NODE_UPDATE)


def _schedulable_for(pod: core_pb2.Pod, node: core_pb2.Node) -> bool:
    return not node.spec.unschedulable or taints.tolerated(
        pod.spec.tolerations, TAINT_NODE_UNSCHEDULABLE
    )


def _after_node_change(pod: core_pb2.Pod, old: object, new: object) -> ce.QueueingHint:
    """A node added schedulable, or cordoned no more (isSchedulableAfterNodeChange)."""
    return ce.became(functools.partial(_schedulable_for, pod), old, new)


def new(args: PluginArgs) -> NodeUnschedulable:
    return NodeUnschedulable()
