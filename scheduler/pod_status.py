"""Writes the PodScheduled condition of a pod that could not be scheduled, only when it changes
(kubernetes pkg/api/v1/pod UpdatePodCondition and the scheduler's updatePod)."""

from __future__ import annotations

import logging

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.conditions import set_pod_condition
from podplane.client.clientset import Client
from podplane.client.conflicts import ConflictRetriesExhausted, get_same, update_on_conflict

log = logging.getLogger(__name__)

POD_SCHEDULED = "PodScheduled"
REASON_UNSCHEDULABLE = "Unschedulable"
REASON_SCHEDULER_ERROR = "SchedulerError"


async def mark_unschedulable(
    client: Client,
    pod: core_pb2.Pod,
    reason: str,
    message: str,
    nominated_node_name: str | None = None,
) -> None:
    """Sets PodScheduled=False with `reason` and `message`, and status.nominatedNodeName when
    `nominated_node_name` is given ("" clears it), re-reading the pod on a conflict; writes
    nothing when neither changes. A pod that is gone or got bound meanwhile is left alone
    (kubernetes schedule_one.go updatePod)."""

    def mutate(p: core_pb2.Pod) -> bool:
        condition = core_pb2.PodCondition(
            type=POD_SCHEDULED, status="False", reason=reason, message=message
        )
        changed = set_pod_condition(p.status, condition)
        if nominated_node_name is not None and p.status.nominated_node_name != nominated_node_name:
            p.status.nominated_node_name = nominated_node_name
            changed = True
        return changed

    async def still_pending(current: core_pb2.Pod) -> core_pb2.Pod | None:
        fresh = await get_same(client.pods, current)
        return None if fresh is None or fresh.spec.node_name else fresh

    try:
        await update_on_conflict(
            pod,
            mutate,
            client.pods.update_status,
            still_pending,
            attempts=3,
            what=f"pod {pod.metadata.namespace}/{pod.metadata.name}",
        )
    except ConflictRetriesExhausted as e:
        log.warning("not updating the PodScheduled condition: %s", e)
