"""Pod conditions, updated as Kubernetes' podutil.UpdatePodCondition does, and a node's Ready."""

from __future__ import annotations

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil


def set_pod_condition(status: core_pb2.PodStatus, condition: core_pb2.PodCondition) -> bool:
    """Puts `condition` into status.conditions; False when nothing changed. The transition time
    moves only when the condition's status does."""
    for existing in status.conditions:
        if existing.type != condition.type:
            continue
        if existing.status == condition.status:
            condition.last_transition_time = existing.last_transition_time
        else:
            condition.last_transition_time = timeutil.now()
        if existing == condition:
            return False
        existing.CopyFrom(condition)
        return True
    condition.last_transition_time = condition.last_transition_time or timeutil.now()
    status.conditions.append(condition)
    return True


def node_is_ready(node: core_pb2.Node) -> bool:
    """Its Ready condition is True (nodeutil.IsNodeReady)."""
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
