"""Stale DisruptionTarget conditions (kubernetes pkg/controller/disruption
nonTerminatingPodHasStaleDisruptionCondition and syncStalePodDisruption): a pod marked as about
to be disrupted (an eviction sets DisruptionTarget=True before deleting it) that is still not
being deleted two minutes later was not disrupted after all; its condition is set back to False.
The kubelet's own marks (TerminationByKubelet) and terminal pods are left alone."""

from __future__ import annotations

from datetime import datetime, timedelta

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import disruption, timeutil

STALE_POD_DISRUPTION_TIMEOUT = timedelta(minutes=2)


def stale_condition(pod: core_pb2.Pod) -> core_pb2.PodCondition | None:
    """The pod's DisruptionTarget condition if it can become stale: True, not the kubelet's, on a
    pod neither being deleted nor finished."""
    if pod.metadata.deletion_timestamp or pod.status.phase in disruption.TERMINAL_PHASES:
        return None
    for cond in pod.status.conditions:
        if cond.type == disruption.DISRUPTION_TARGET:
            if cond.status != "True" or cond.reason == disruption.TERMINATION_BY_KUBELET:
                return None
            return cond
    return None


def seconds_until_stale(
    cond: core_pb2.PodCondition, now: datetime, timeout: timedelta = STALE_POD_DISRUPTION_TIMEOUT
) -> float:
    """Seconds until a stale_condition is stale (0: it is)."""
    since = timeutil.parse(cond.last_transition_time) or now
    return max((since + timeout - now).total_seconds(), 0.0)


def stale_after(
    pod: core_pb2.Pod, now: datetime, timeout: timedelta = STALE_POD_DISRUPTION_TIMEOUT
) -> float | None:
    """Seconds until the pod's DisruptionTarget condition is stale (0: it is); None when it has
    none that can become stale."""
    cond = stale_condition(pod)
    return None if cond is None else seconds_until_stale(cond, now, timeout)


def cleared(pod: core_pb2.Pod) -> core_pb2.Pod:
    """A copy of the pod with DisruptionTarget False (UpdatePodCondition: the condition replaced
    by one of that type and status alone, its transition time now)."""
    new = core_pb2.Pod()
    new.CopyFrom(pod)
    for cond in new.status.conditions:
        if cond.type == disruption.DISRUPTION_TARGET:
            cond.Clear()
            cond.type = disruption.DISRUPTION_TARGET
            cond.status = "False"
            cond.last_transition_time = timeutil.now()
    return new
