"""A StatefulSet's status from its pods (kubernetes 1.31 stateful_set_control.go
computeReplicaStatus, updateStatus; stateful_set_utils.go completeRollingUpdate,
inconsistentStatus): replicas counts the pods created (a phase reported), ready those Running and
Ready, available those ready for minReadySeconds, current and updated those of each revision that
are not being deleted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from controller.framework import pod_state
from controller.statefulset.identity import pod_revision
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2


def is_created(pod: core_pb2.Pod) -> bool:
    """The apiserver has it (a pod this pass is about to create has no phase)."""
    return bool(pod.status.phase)


def is_terminating(pod: core_pb2.Pod) -> bool:
    return bool(pod.metadata.deletion_timestamp)


def is_running_and_ready(pod: core_pb2.Pod) -> bool:
    return pod.status.phase == "Running" and pod_state.is_ready(pod)


def is_running_and_available(pod: core_pb2.Pod, min_ready_seconds: int, now: datetime) -> bool:
    return pod_state.is_available(pod, min_ready_seconds, now)


def is_healthy(pod: core_pb2.Pod) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)


def count_replicas(
    status: apps_pb2.StatefulSetStatus,
    pods: Iterable[core_pb2.Pod],
    min_ready_seconds: int,
    now: datetime,
) -> None:
    """updateStatus: the counts of `status` from the pods (those of every list given)."""
    status.replicas = status.ready_replicas = status.available_replicas = 0
    status.current_replicas = status.updated_replicas = 0
    for pod in pods:
        created = is_created(pod)
        if created:
            status.replicas += 1
        if is_running_and_ready(pod):
            status.ready_replicas += 1
            if is_running_and_available(pod, min_ready_seconds, now):
                status.available_replicas += 1
        if created and not is_terminating(pod):
            revision = pod_revision(pod)
            if revision == status.current_revision:
                status.current_replicas += 1
            if revision == status.update_revision:
                status.updated_replicas += 1


def complete_rolling_update(sts: apps_pb2.StatefulSet, status: apps_pb2.StatefulSetStatus) -> None:
    """When every replica runs the update revision and is ready, it becomes the current one."""
    replicas = sts.spec.replicas
    if (
        sts.spec.update_strategy.type == "RollingUpdate"
        and status.updated_replicas == replicas
        and status.ready_replicas == replicas
        and status.replicas == replicas
    ):
        status.current_replicas = status.updated_replicas
        status.current_revision = status.update_revision


def inconsistent(sts: apps_pb2.StatefulSet, status: apps_pb2.StatefulSetStatus) -> bool:
    """Whether `status` says something the stored status does not (worth a write)."""
    old = sts.status
    return (
        status.observed_generation > old.observed_generation
        or status.replicas != old.replicas
        or status.current_replicas != old.current_replicas
        or status.ready_replicas != old.ready_replicas
        or status.updated_replicas != old.updated_replicas
        or status.current_revision != old.current_revision
        or status.available_replicas != old.available_replicas
        or status.update_revision != old.update_revision
    )
