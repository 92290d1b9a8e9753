"""The fewest pods to evict from a node for a pod to fit there (kubernetes defaultpreemption
SelectVictimsOnNode): every pod that may be preempted is taken away; if the pod still does not
fit, evicting cannot help. Otherwise they are given back one at a time, most important first
(higher priority, then the one running longer), first those whose eviction would break a
PodDisruptionBudget, then the others; a pod the preemptor no longer fits beside is taken away
again, a victim. Affinity of the preemptor to the victims is not considered (a pod should not
need pods of lower priority)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from podplane.api.core.v1 import core_pb2
from scheduler.framework.interfaces import FrameworkHandle
from scheduler.framework.preemption.candidates import Victims, importance
from scheduler.framework.preemption.disruption_budgets import DisruptionBudget, split_by_violation
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo, PodInfo

NO_VICTIMS = "No preemption victims found for incoming pod"

# Gives a pod taken away back to the node: True if the preemptor still fits beside it (it
# stays), False if not (it is taken away again: a victim), or the status of a failure.
Reprieve = Callable[[PodInfo], bool | Status]


def select_victims(
    framework: FrameworkHandle,
    state: CycleState,
    pod: core_pb2.Pod,
    node: NodeInfo,
    budgets: Sequence[DisruptionBudget],
    preemptible: Callable[[PodInfo], bool],
    now: datetime,
) -> Victims:
    """The victims (most important first) and how many break a budget, or the status saying why
    no eviction makes the pod fit. `state` and `node` are copies, changed here."""

    def remove(info: PodInfo) -> Status:
        node.remove_pod(info.uid)
        return framework.run_pre_filter_extension_remove_pod(state, pod, info, node)

    def add(info: PodInfo) -> Status:
        node.add_pod(info)
        return framework.run_pre_filter_extension_add_pod(state, pod, info, node)

    potential = [info for info in node.pods.values() if preemptible(info)]
    if not potential:
        return [], 0, Status.unresolvable(NO_VICTIMS)
    for info in potential:
        status = remove(info)
        if not status.is_success:
            return [], 0, status
    status = framework.run_filter_with_nominated_pods(state, pod, node)
    if not status.is_success:
        return [], 0, status

    def reprieve(info: PodInfo) -> bool | Status:
        status = add(info)
        if not status.is_success:
            return status
        if framework.run_filter_with_nominated_pods(state, pod, node).is_success:
            return True
        status = remove(info)
        return status if not status.is_success else False

    return give_back(potential, budgets, now, reprieve)


def give_back(
    potential: list[PodInfo],
    budgets: Sequence[DisruptionBudget],
    now: datetime,
    reprieve: Reprieve,
) -> Victims:
    """The pods that may be preempted, all taken away and the preemptor fitting without them,
    given back one at a time: most important first, those whose eviction would break a budget
    before the others. The ones `reprieve` refuses are the victims, most important first."""
    potential.sort(key=lambda info: importance(info.pod, now))
    violating, non_violating = split_by_violation(potential, budgets)
    victims: list[PodInfo] = []
    violations = 0
    for group in (violating, non_violating):
        for info in group:
            fits = reprieve(info)
            if isinstance(fits, Status):
                return [], 0, fits
            if not fits:
                victims.append(info)
                violations += group is violating
    if violating and non_violating:
        victims.sort(key=lambda info: importance(info.pod, now))
    return [info.pod for info in victims], violations, SUCCESS
