"""The status a ReplicaSet or ReplicationController reports about the pods it controls (kubernetes
pkg/controller/replicaset/replica_set_utils.go calculateStatus): replicas, fullyLabeledReplicas
(carrying all the template's labels), readyReplicas, availableReplicas (ready for
minReadySeconds), observedGeneration, and a ReplicaFailure condition while creating or deleting
pods fails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import grpc

from controller.framework import pod_state
from controller.replicaset.kinds import Replicated
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil

REPLICA_FAILURE = "ReplicaFailure"


def error_message(err: BaseException) -> str:
    if isinstance(err, grpc.aio.AioRpcError):
        return str(err.details() or err.code())
    return str(err)


def with_new_status(
    owner: Replicated,
    pods: Sequence[core_pb2.Pod],
    manage_error: BaseException | None,
    now: datetime,
) -> Replicated | None:
    """A copy of the owner with the status its pods give it; None when that is the status it has
    (the cached owner is not touched)."""
    status = type(owner.status)()
    status.CopyFrom(owner.status)
    template_labels = owner.spec.template.metadata.labels
    min_ready = owner.spec.min_ready_seconds
    status.replicas = len(pods)
    status.fully_labeled_replicas = sum(
        1 for p in pods if all(p.metadata.labels.get(k) == v for k, v in template_labels.items())
    )
    status.ready_replicas = sum(1 for p in pods if pod_state.is_ready(p))
    status.available_replicas = sum(1 for p in pods if pod_state.is_available(p, min_ready, now))
    status.observed_generation = owner.metadata.generation
    failure = [i for i, c in enumerate(status.conditions) if c.type == REPLICA_FAILURE]
    if manage_error is not None and not failure:
        diff = len(pods) - owner.spec.replicas
        condition = status.conditions.add()
        condition.type = REPLICA_FAILURE
        condition.status = "True"
        condition.reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        condition.message = error_message(manage_error)
        condition.last_transition_time = timeutil.format_time(now)
    elif manage_error is None:
        for i in reversed(failure):
            del status.conditions[i]
    if status == owner.status:
        return None
    updated = type(owner)()
    updated.CopyFrom(owner)
    updated.status.CopyFrom(status)
    return updated


def next_available_in(
    owner: Replicated, pods: Sequence[core_pb2.Pod], now: datetime
) -> float | None:
    """Seconds until the next ready pod becomes available, so that the status can say so then;
    None if no pod is waiting for minReadySeconds."""
    min_ready = owner.spec.min_ready_seconds
    if min_ready <= 0:
        return None
    waits = []
    for p in pods:
        at = pod_state.available_at(p, min_ready)
        if at is not None and not at < now:
            # Availability needs the time strictly past; timestamps have whole seconds.
            waits.append((at - now).total_seconds() + 0.1)
    return min(waits) if waits else None
