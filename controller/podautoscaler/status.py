"""The autoscaler's status as the controller writes it (horizontal.go setCondition, setStatus,
updateStatusIfNeeded): a condition's lastTransitionTime moves only when its status does; the
status is written only when it differs from what was read."""

from __future__ import annotations

from collections.abc import Sequence

from controller.podautoscaler.normalize import Condition
from podplane.api.autoscaling.v2 import autoscaling_pb2
from podplane.apimachinery import timeutil

HPA = autoscaling_pb2.HorizontalPodAutoscaler


def set_condition(hpa: HPA, condition: Condition) -> None:
    for existing in hpa.status.conditions:
        if existing.type == condition.type:
            break
    else:
        existing = hpa.status.conditions.add(type=condition.type)
    if existing.status != condition.status:
        existing.last_transition_time = timeutil.now()
    existing.status = condition.status
    existing.reason = condition.reason
    existing.message = condition.message


def set_status(
    hpa: HPA,
    current_replicas: int,
    desired_replicas: int,
    metric_statuses: Sequence[autoscaling_pb2.MetricStatus] | None,
    rescaled: bool,
) -> None:
    """setStatus: the replicas and metrics anew, the conditions and last scale time kept (now,
    when it rescaled)."""
    status = hpa.status
    status.current_replicas = current_replicas
    status.desired_replicas = desired_replicas
    del status.current_metrics[:]
    status.current_metrics.extend(metric_statuses or [])
    if rescaled:
        status.last_scale_time = timeutil.now()


def keep_desired(
    hpa: HPA, current_replicas: int, metric_statuses: Sequence[autoscaling_pb2.MetricStatus] | None
) -> None:
    """setCurrentReplicasAndMetricsInStatus: on a failure, the desired count stays."""
    set_status(hpa, current_replicas, hpa.status.desired_replicas, metric_statuses, False)
