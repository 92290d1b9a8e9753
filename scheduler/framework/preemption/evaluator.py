"""Preemption, for a pod no node can take (kubernetes pkg/scheduler/framework/preemption
Evaluator.Preempt):

1. Is the pod eligible to preempt (not preemptionPolicy Never, not already waiting for victims of
   an earlier preemption to go)?
2. The candidates: on the nodes the filters turned down for a reason other pods leaving could
   cure (Unschedulable, not UnschedulableAndUnresolvable), the fewest victims that make the pod
   fit, found by a dry run on a copy of the node, starting at a random node and stopping once
   enough candidates are found (minCandidateNodesPercentage / minCandidateNodesAbsolute).
3. The best candidate (candidates.pick_one).
4. Its victims' preemption (executor.py), and the pod nominated to its node.

What varies between preemption plugins (victims on a node, eligibility, how many candidates) is
the plugin's, through the Interface protocol."""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from podplane.api.core.v1 import core_pb2
from scheduler.framework.diagnosis import Diagnosis, NodeToStatus, fit_error_message
from scheduler.framework.interfaces import FrameworkHandle
from scheduler.framework.node_table import NodeTable
from scheduler.framework.nominating import CLEAR_NOMINATED_NODE, PostFilterResult
from scheduler.framework.preemption.candidates import Candidate, Victims, pick_one
from scheduler.framework.preemption.disruption_budgets import DisruptionBudget
from scheduler.framework.preemption.executor import Executor
from scheduler.framework.snapshot import node_table
from scheduler.framework.status import Code, Status
from scheduler.framework.types import CycleState, NodeInfo

log = logging.getLogger(__name__)

PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"


class Interface(Protocol):
    """What a preemption plugin decides (kubernetes preemption.Interface)."""

    def offset_and_num_candidates(self, num_nodes: int) -> tuple[int, int]:
        """Where the dry run starts among the potential nodes, and how many candidates suffice."""

    def pod_eligible_to_preempt_others(
        self, state: CycleState, pod: core_pb2.Pod, nominated_node_status: Status
    ) -> tuple[bool, str]:
        """Whether the pod may preempt now, and why not."""

    def select_victims_on_node(
        self,
        state: CycleState,
        pod: core_pb2.Pod,
        node: NodeInfo,
        budgets: Sequence[DisruptionBudget],
    ) -> Victims:
        """The fewest pods to evict from `node` (a copy) for the pod to fit there, most important
        first, and how many of them break a budget; or why no eviction makes it fit."""


# select_victims_on_node's answer on a node of the attempt, from the node's sums, without
# changing it (the original) or the cycle state; None where that node's sums cannot tell.
VictimsBySum = Callable[[NodeInfo, Sequence[DisruptionBudget]], Victims | None]


@runtime_checkable
class SumsInterface(Protocol):
    """A preemption plugin that can find the victims on some nodes from the node's sums alone,
    without copies (DefaultPreemption, where only resources depend on the pods)."""

    def victims_by_sum(self, state: CycleState, pod: core_pb2.Pod) -> VictimsBySum | None:
        """The finder of victims by sum for this attempt, asked once a dry run; None where no
        node's sums can tell."""


class Evaluator:
    def __init__(
        self,
        framework: FrameworkHandle,
        interface: Interface,
        *,
        budgets: Callable[[], Sequence[DisruptionBudget]] | None = None,
    ) -> None:
        """`budgets` lists the cluster's PodDisruptionBudgets (the plugin's lister of them); None:
        there are none to respect."""
        self._framework = framework
        self._interface = interface
        self._budgets = budgets
        self._executor = Executor(framework)

    def preempt(
        self, state: CycleState, pod: core_pb2.Pod, statuses: NodeToStatus
    ) -> tuple[PostFilterResult | None, Status]:
        """Success with the node the pod is nominated to and the writes that make room there;
        Unschedulable with no result (nomination kept) when the pod may not preempt now;
        Unschedulable with the nomination cleared when no eviction would help; or an error.
        `pod` is the informer's latest (the scheduling cycle reads it without awaiting)."""
        nominated_status = statuses.get(pod.status.nominated_node_name)
        eligible, why = self._interface.pod_eligible_to_preempt_others(state, pod, nominated_status)
        if not eligible:
            log.debug("pod %s is not eligible for preemption: %s", pod.metadata.name, why)
            return None, Status.unschedulable(why)
        all_nodes = state.all_nodes
        if not all_nodes:
            return None, Status.error("no nodes available")
        candidates, diagnosis, errors = self._find_candidates(state, pod, statuses)
        if errors and not candidates:
            return None, Status.error(", ".join(errors))
        if not candidates:
            message = fit_error_message(len(all_nodes), diagnosis)
            return PostFilterResult(CLEAR_NOMINATED_NODE), Status.unschedulable(message)
        best = pick_one(candidates)
        if best is None or not best.node_name:
            return None, Status.unschedulable("no candidate node for preemption")
        log.info(
            "pod %s/%s: the target node for the preemption is %s (%d victim(s))",
            pod.metadata.namespace,
            pod.metadata.name,
            best.node_name,
            len(best.victims),
        )
        prepare = functools.partial(self._executor.prepare_candidate, best, pod)
        return PostFilterResult.nominated(best.node_name, prepare), Status()

    def _find_candidates(
        self, state: CycleState, pod: core_pb2.Pod, statuses: NodeToStatus
    ) -> tuple[list[Candidate], Diagnosis, list[str]]:
        """The candidates, the status of each node that is none (the dry runs' by name, the
        unresolvable ones counted), and the dry runs' errors."""
        potential, unresolvable = _by_code(state.all_nodes, statuses)
        diagnosis = Diagnosis()
        if unresolvable:
            diagnosis.unnamed.append((Status.unresolvable(PREEMPTION_NOT_HELPFUL), unresolvable))
        if not potential:
            log.debug("preemption will not help schedule pod %s on any node", pod.metadata.name)
            return [], diagnosis, []
        budgets = list(self._budgets()) if self._budgets is not None else []
        offset, wanted = self._interface.offset_and_num_candidates(len(potential))
        candidates, errors = self._dry_run(
            state, pod, potential, budgets, offset, wanted, diagnosis.node_to_status
        )
        return candidates, diagnosis, errors

    def _dry_run(
        self,
        state: CycleState,
        pod: core_pb2.Pod,
        potential: list[NodeInfo],
        budgets: Sequence[DisruptionBudget],
        offset: int,
        wanted: int,
        node_statuses: dict[str, Status],
    ) -> tuple[list[Candidate], list[str]]:
        """Each potential node from `offset` on, on copies of the node and the cycle state, until
        `wanted` candidates are found, at least one breaking no budget; those breaking none
        first (kubernetes DryRunPreemption, which runs the nodes in parallel). The status of
        each node that is no candidate goes into `node_statuses`."""
        non_violating: list[Candidate] = []
        violating: list[Candidate] = []
        errors: list[str] = []
        interface = self._interface
        by_sum = (
            interface.victims_by_sum(state, pod) if isinstance(interface, SumsInterface) else None
        )
        for i in range(len(potential)):
            node = potential[(offset + i) % len(potential)]
            answer = by_sum(node, budgets) if by_sum is not None else None
            if answer is None:
                answer = interface.select_victims_on_node(
                    state.clone(), pod, node.snapshot(), budgets
                )
            victims, violations, status = answer
            if status.is_success and victims:
                found = violating if violations else non_violating
                if len(found) < wanted:
                    found.append(Candidate(node.name, tuple(victims), violations))
                if non_violating and len(non_violating) + len(violating) >= wanted:
                    break
                continue
            if status.is_success:
                status = Status.error(f'expected at least one victim pod on node "{node.name}"')
            if status.is_error:
                errors.append(status.message)
            node_statuses[node.name] = status
        return non_violating + violating, errors


# What a node's Filter status says of preemption there (kubernetes
# nodesWherePreemptionMightHelp): evicting pods might help, would not, or the node passed.
_MIGHT_HELP, _UNRESOLVABLE, _PASSED = 0, 1, 2
_CATEGORY = {
    code: _MIGHT_HELP
    if code is Code.UNSCHEDULABLE
    else _UNRESOLVABLE
    if code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    else _PASSED
    for code in Code
}
_code = operator.attrgetter("code")


def _by_code(nodes: Sequence[NodeInfo], statuses: NodeToStatus) -> tuple[list[NodeInfo], int]:
    """The nodes whose Filter status is Unschedulable (where evicting pods might help), in the
    nodes' order, and how many have UnschedulableAndUnresolvable (kubernetes
    nodesWherePreemptionMightHelp). Worked out by row of the nodes' table, at C speed: a pod no
    node takes has been rejected on every node, 5000 of them, and a look at each node cost 15 ms
    an attempt."""
    table = node_table(nodes)
    category = np.full(len(table), _CATEGORY[statuses.absent.code], np.int8)
    bulk = statuses.bulk
    if bulk is not None and bulk.table is table:
        per_code = np.array([_CATEGORY[s.code] for s in bulk.statuses], np.int8)
        category[bulk.rows] = per_code[bulk.codes]
    elif bulk is not None:
        _set_by_name(category, table, dict(bulk.items()))
    _set_by_name(category, table, statuses.statuses)
    potential = table.node_array[category == _MIGHT_HELP].tolist()
    return potential, int(np.count_nonzero(category == _UNRESOLVABLE))


def _set_by_name(
    category: npt.NDArray[np.int8], table: NodeTable, statuses: Mapping[str, Status]
) -> None:
    if not statuses:
        return
    try:
        rows = table.rows_of(statuses.keys())
    except KeyError:  # a node no longer in the table: its status does not count
        kept = {name: s for name, s in statuses.items() if table.row_of(name) is not None}
        rows = table.rows_of(kept.keys())
        statuses = kept
    category[rows] = np.fromiter(
        map(_CATEGORY.__getitem__, map(_code, statuses.values())), np.int8, len(statuses)
    )
