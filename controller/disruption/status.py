"""A PodDisruptionBudget's status from its pods (kubernetes pkg/controller/disruption
buildDisruptedPodMap, countHealthyPods, updatePdbStatus and failSafe): the healthy pods (ready,
not being deleted, not just evicted), the disruptions that leaves, and the DisruptionAllowed
condition.

A pod the eviction subresource recorded in disruptedPods is not counted healthy for two minutes
(DELETION_TIMEOUT): long enough for its deletion to show; one still there after that was not
deleted after all and is dropped from the map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import disruption, timeutil

DELETION_TIMEOUT = timedelta(minutes=2)


@dataclass(frozen=True)
class DisruptedPods:
    """The entries of status.disruptedPods still awaited, when to look again (the earliest
    expiry), and the pods that outlived theirs."""

    pods: dict[str, str]
    recheck_at: datetime | None
    not_deleted: tuple[str, ...]


def _expiry(recorded: str) -> datetime | None:
    at = timeutil.parse(recorded)
    return None if at is None else at + DELETION_TIMEOUT


def disrupted_pods(
    pdb: policy_pb2.PodDisruptionBudget, pods: Sequence[core_pb2.Pod], now: datetime
) -> DisruptedPods:
    """buildDisruptedPodMap: the recorded pods that exist, are not being deleted yet and are
    within their two minutes."""
    recorded = pdb.status.disrupted_pods
    kept: dict[str, str] = {}
    recheck: datetime | None = None
    late: list[str] = []
    for pod in pods:
        name = pod.metadata.name
        if pod.metadata.deletion_timestamp or name not in recorded:
            continue
        expiry = _expiry(recorded[name])
        if expiry is None or expiry < now:
            late.append(name)
            continue
        kept[name] = recorded[name]
        recheck = expiry if recheck is None or expiry < recheck else recheck
    return DisruptedPods(kept, recheck, tuple(late))


def count_healthy(pods: Sequence[core_pb2.Pod], disrupted: Mapping[str, str], now: datetime) -> int:
    """countHealthyPods: ready, not being deleted, not about to be."""
    healthy = 0
    for pod in pods:
        if pod.metadata.deletion_timestamp:
            continue
        expiry = _expiry(disrupted.get(pod.metadata.name, ""))
        if expiry is not None and expiry > now:
            continue
        if disruption.is_pod_ready(pod):
            healthy += 1
    return healthy


def updated_status(
    pdb: policy_pb2.PodDisruptionBudget,
    current_healthy: int,
    desired_healthy: int,
    expected_pods: int,
    disrupted: Mapping[str, str],
) -> policy_pb2.PodDisruptionBudget | None:
    """updatePdbStatus: a copy of the budget with its new status, or None when the stored one
    says it all already. No disruption is allowed while the budget expects no pods: its first
    pods may appear before this controller has seen them."""
    allowed = current_healthy - desired_healthy
    if expected_pods <= 0 or allowed <= 0:
        allowed = 0
    s = pdb.status
    if (
        s.current_healthy == current_healthy
        and s.desired_healthy == desired_healthy
        and s.expected_pods == expected_pods
        and s.disruptions_allowed == allowed
        and dict(s.disrupted_pods) == dict(disrupted)
        and s.observed_generation == pdb.metadata.generation
        and disruption.conditions_are_up_to_date(pdb)
    ):
        return None
    new = policy_pb2.PodDisruptionBudget()
    new.CopyFrom(pdb)
    conditions = list(pdb.status.conditions)
    new.status.Clear()
    new.status.current_healthy = current_healthy
    new.status.desired_healthy = desired_healthy
    new.status.expected_pods = expected_pods
    new.status.disruptions_allowed = allowed
    new.status.disrupted_pods.update(disrupted)
    new.status.observed_generation = pdb.metadata.generation
    new.status.conditions.extend(conditions)
    disruption.update_disruption_allowed_condition(new)
    return new


def failed_status(
    pdb: policy_pb2.PodDisruptionBudget, error: str
) -> policy_pb2.PodDisruptionBudget:
    """failSafe: no disruption allowed, DisruptionAllowed False for SyncFailed with the error;
    the rest of the status as it was."""
    new = policy_pb2.PodDisruptionBudget()
    new.CopyFrom(pdb)
    new.status.disruptions_allowed = 0
    disruption.set_status_condition(
        new.status,
        meta_pb2.Condition(
            type=disruption.DISRUPTION_ALLOWED,
            status="False",
            reason=disruption.SYNC_FAILED,
            message=error,
            observed_generation=new.status.observed_generation,
        ),
    )
    return new
