"""A Deployment's status and conditions (kubernetes pkg/controller/deployment/sync.go
calculateStatus, progress.go syncRolloutStatus, util/deployment_util.go): replica counts summed
over its ReplicaSets; Available (at least replicas - maxUnavailable pods available) and
Progressing (the rollout moves, has completed, or is past progressDeadlineSeconds)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from controller.deployment import rollout
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import timeutil

AVAILABLE, PROGRESSING, REPLICA_FAILURE = "Available", "Progressing", "ReplicaFailure"

# Reasons, as kubernetes' deploymentutil names them.
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
FAILED_RS_CREATE = "ReplicaSetCreateError"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MINIMUM_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_UNAVAILABLE = "MinimumReplicasUnavailable"

_NO_DEADLINE = 2**31 - 1


def stamp_of(now: float) -> str:
    """An API timestamp for a time.time() value."""
    return timeutil.format_time(datetime.fromtimestamp(now, UTC))


def new_condition(
    type_: str, status: str, reason: str, message: str, now: str
) -> apps_pb2.DeploymentCondition:
    return apps_pb2.DeploymentCondition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        last_update_time=now,
        last_transition_time=now,
    )


def get_condition(
    status: apps_pb2.DeploymentStatus, type_: str
) -> apps_pb2.DeploymentCondition | None:
    for c in status.conditions:
        if c.type == type_:
            return c
    return None


def remove_condition(status: apps_pb2.DeploymentStatus, type_: str) -> None:
    keep = [c for c in status.conditions if c.type != type_]
    del status.conditions[:]
    status.conditions.extend(keep)


def set_condition(
    status: apps_pb2.DeploymentStatus, condition: apps_pb2.DeploymentCondition
) -> None:
    """SetDeploymentCondition: nothing changes when the status and reason are the same; the
    transition time stays when only the reason changes."""
    current = get_condition(status, condition.type)
    if current is not None and (current.status, current.reason) == (
        condition.status,
        condition.reason,
    ):
        return
    if current is not None and current.status == condition.status:
        condition.last_transition_time = current.last_transition_time
    remove_condition(status, condition.type)
    status.conditions.append(condition)


def has_progress_deadline(d: apps_pb2.Deployment) -> bool:
    return bool(
        d.spec.HasField("progress_deadline_seconds")
        and d.spec.progress_deadline_seconds != _NO_DEADLINE
    )


def calculate_status(
    all_rss: Sequence[apps_pb2.ReplicaSet | None],
    new_rs: apps_pb2.ReplicaSet | None,
    d: apps_pb2.Deployment,
    now: str,
) -> apps_pb2.DeploymentStatus:
    available = rollout.total_status(all_rss, "available_replicas")
    status = apps_pb2.DeploymentStatus(
        observed_generation=d.metadata.generation,
        replicas=rollout.total_status(all_rss, "replicas"),
        updated_replicas=rollout.total_status([new_rs], "replicas"),
        ready_replicas=rollout.total_status(all_rss, "ready_replicas"),
        available_replicas=available,
        unavailable_replicas=max(0, rollout.total_size(all_rss) - available),
    )
    if d.status.HasField("collision_count"):
        status.collision_count = d.status.collision_count
    status.conditions.extend(d.status.conditions)
    if available >= rollout.min_available(d):
        set_condition(
            status,
            new_condition(
                AVAILABLE, "True", MINIMUM_AVAILABLE, "Deployment has minimum availability.", now
            ),
        )
    else:
        set_condition(
            status,
            new_condition(
                AVAILABLE,
                "False",
                MINIMUM_UNAVAILABLE,
                "Deployment does not have minimum availability.",
                now,
            ),
        )
    return status


def deployment_complete(d: apps_pb2.Deployment, status: apps_pb2.DeploymentStatus) -> bool:
    replicas = rollout.desired_replicas(d)
    return bool(
        status.updated_replicas == replicas
        and status.replicas == replicas
        and status.available_replicas == replicas
        and status.observed_generation >= d.metadata.generation
    )


def deployment_progressing(d: apps_pb2.Deployment, new: apps_pb2.DeploymentStatus) -> bool:
    """More new pods, fewer old ones, or more ready or available ones than the stored status."""
    old = d.status
    return bool(
        new.updated_replicas > old.updated_replicas
        or new.replicas - new.updated_replicas < old.replicas - old.updated_replicas
        or new.ready_replicas > old.ready_replicas
        or new.available_replicas > old.available_replicas
    )


def deployment_timed_out(d: apps_pb2.Deployment, now: float) -> bool:
    if not has_progress_deadline(d):
        return False
    cond = get_condition(d.status, PROGRESSING)
    if cond is None or cond.reason == NEW_RS_AVAILABLE:
        return False
    if cond.reason == TIMED_OUT:
        return True
    updated = timeutil.parse(cond.last_update_time)
    deadline = float(d.spec.progress_deadline_seconds)
    return updated is not None and updated.timestamp() + deadline < now


def _replica_failures(
    all_rss: Sequence[apps_pb2.ReplicaSet | None], new_rs: apps_pb2.ReplicaSet | None
) -> list[apps_pb2.DeploymentCondition]:
    """The ReplicaFailure conditions of the new replica set, else of any other."""
    for candidates in ([new_rs], all_rss):
        found = [
            apps_pb2.DeploymentCondition(
                type=c.type,
                status=c.status,
                reason=c.reason,
                message=c.message,
                last_update_time=c.last_transition_time,
                last_transition_time=c.last_transition_time,
            )
            for rs in candidates
            if rs is not None
            for c in rs.status.conditions
            if c.type == REPLICA_FAILURE
        ]
        if found:
            return found
    return []


def rollout_status(
    all_rss: Sequence[apps_pb2.ReplicaSet | None],
    new_rs: apps_pb2.ReplicaSet | None,
    d: apps_pb2.Deployment,
    now: float,
) -> apps_pb2.DeploymentStatus:
    """The status syncRolloutStatus writes: counts, Available, and Progressing."""
    stamp = stamp_of(now)
    status = calculate_status(all_rss, new_rs, d, stamp)
    if not has_progress_deadline(d):
        remove_condition(status, PROGRESSING)
    current = get_condition(d.status, PROGRESSING)
    complete = (
        status.replicas == status.updated_replicas
        and current is not None
        and current.reason == NEW_RS_AVAILABLE
    )
    if has_progress_deadline(d) and not complete:
        subject = (
            f'ReplicaSet "{new_rs.metadata.name}"'
            if new_rs is not None
            else (f'Deployment "{d.metadata.name}"')
        )
        if deployment_complete(d, status):
            set_condition(
                status,
                new_condition(
                    PROGRESSING,
                    "True",
                    NEW_RS_AVAILABLE,
                    f"{subject} has successfully progressed.",
                    stamp,
                ),
            )
        elif deployment_progressing(d, status):
            condition = new_condition(
                PROGRESSING, "True", RS_UPDATED, f"{subject} is progressing.", stamp
            )
            # Progress moves lastUpdateTime even with the same reason (which set_condition
            # would ignore); the transition time stays while the status does.
            if current is not None:
                if current.status == "True":
                    condition.last_transition_time = current.last_transition_time
                remove_condition(status, PROGRESSING)
            set_condition(status, condition)
        elif deployment_timed_out(d, now):
            set_condition(
                status,
                new_condition(
                    PROGRESSING, "False", TIMED_OUT, f"{subject} has timed out progressing.", stamp
                ),
            )
    failures = _replica_failures(all_rss, new_rs)
    if failures:
        set_condition(status, failures[0])
    else:
        remove_condition(status, REPLICA_FAILURE)
    return status


def stuck_recheck(
    d: apps_pb2.Deployment, status: apps_pb2.DeploymentStatus, now: float
) -> float | None:
    """When to look again for a progress deadline passing (requeueStuckDeployment): the
    Progressing condition's lastUpdateTime + progressDeadlineSeconds; None if not waiting."""
    current = get_condition(d.status, PROGRESSING)
    if not has_progress_deadline(d) or current is None:
        return None
    if deployment_complete(d, status) or current.reason == TIMED_OUT:
        return None
    updated = timeutil.parse(current.last_update_time)
    if updated is None:
        return None
    return max(1.0, updated.timestamp() + float(d.spec.progress_deadline_seconds) - now)
