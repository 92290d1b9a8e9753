"""Writes the PodScheduled condition of a pod that could not be scheduled, only when it changes
(kubernetes pkg/api/v1/pod UpdatePodCondition and the scheduler's updatePod)."""
from __future__ import annotations

import logging
from typing import Any

from podplane.api.core.v1 import core_pb2
from podplane.client import Client, is_conflict, is_not_found
from podplane.conditions import set_pod_condition

log = logging.getLogger(__name__)

POD_SCHEDULED = "PodScheduled"
REASON_UNSCHEDULABLE = "Unschedulable"
REASON_SCHEDULER_ERROR = "SchedulerError"
_ATTEMPTS = 3


async def mark_unschedulable(client: Client, pod: Any, reason: str, message: str) -> None:
    """Sets PodScheduled=False with `reason` and `message`, re-reading the pod on a conflict. A pod
    that is gone or got bound meanwhile is left alone."""
    for _ in range(_ATTEMPTS):
        updated = core_pb2.Pod()
        updated.CopyFrom(pod)
        condition = core_pb2.PodCondition(type=POD_SCHEDULED, status="False", reason=reason,
                                          message=message)
        if not set_pod_condition(updated.status, condition):
            return
        try:
            await client.pods.update_status(updated)
            return
        except Exception as e:
            if is_not_found(e):
                return
            if not is_conflict(e):
                raise
        fresh = await client.pods.get(pod.metadata.name, pod.metadata.namespace)
        if fresh.metadata.uid != pod.metadata.uid or fresh.spec.node_name:
            return
        pod = fresh
    log.warning("gave up updating the PodScheduled condition of %s/%s after %d conflicts",
                pod.metadata.namespace, pod.metadata.name, _ATTEMPTS)
