"""What the workload controllers read from a pod's state: active, ready, available (kubernetes
pkg/controller/controller_utils.go IsPodActive, pkg/api/v1/pod/util.go IsPodReady and
IsPodAvailable)."""

from __future__ import annotations

from datetime import datetime, timedelta

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil

TERMINAL_PHASES = ("Succeeded", "Failed")


def is_active(pod: core_pb2.Pod) -> bool:
    """Counts towards a controller's replicas: not finished and not being deleted."""
    return pod.status.phase not in TERMINAL_PHASES and not pod.metadata.deletion_timestamp


def ready_condition(pod: core_pb2.Pod) -> core_pb2.PodCondition | None:
    for c in pod.status.conditions:
        if c.type == "Ready":
            return c
    return None


def is_ready(pod: core_pb2.Pod) -> bool:
    c = ready_condition(pod)
    return c is not None and c.status == "True"


def ready_since(pod: core_pb2.Pod) -> datetime | None:
    """When the pod last became ready; None if it is not ready or the time is unknown."""
    c = ready_condition(pod)
    if c is None or c.status != "True":
        return None
    return timeutil.parse(c.last_transition_time)


def available_at(pod: core_pb2.Pod, min_ready_seconds: int) -> datetime | None:
    """When the ready pod counts as available (ready for minReadySeconds); None if not ready or
    the ready time is unknown."""
    since = ready_since(pod)
    return None if since is None else since + timedelta(seconds=min_ready_seconds)


def is_available(pod: core_pb2.Pod, min_ready_seconds: int, now: datetime) -> bool:
    if not is_ready(pod):
        return False
    if min_ready_seconds == 0:
        return True
    at = available_at(pod, min_ready_seconds)
    return at is not None and at < now


def max_container_restarts(pod: core_pb2.Pod) -> int:
    return max((c.restart_count for c in pod.status.container_statuses), default=0)
