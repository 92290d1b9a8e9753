"""One scheduling decision: filter the nodes, score the feasible ones, pick the best
(kubernetes pkg/scheduler/schedule_one.go schedulePod, findNodesThatFitPod, selectHost)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from scheduler.framework.diagnosis import Diagnosis, fit_error_message
from scheduler.framework.runtime import Framework
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo

NO_NODES_AVAILABLE = "no nodes available to schedule pods"
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


@dataclass(frozen=True)
class ScheduleResult:
    """Success with the chosen node, or a rejection (the "0/N nodes are available" message) or an
    error in `status`."""
    node_name: str = ""
    status: Status = SUCCESS
    evaluated_nodes: int = 0
    feasible_nodes: int = 0
    diagnosis: Diagnosis = field(default_factory=Diagnosis)


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int = 0) -> int:
    """Every node in a small cluster; in a large one, enough feasible nodes to choose well."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND or percentage >= 100:
        return num_all_nodes
    if percentage <= 0:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


class SchedulingAlgorithm:
    def __init__(self, framework: Framework, rng: random.Random | None = None) -> None:
        self.framework = framework
        self._rng = rng or random.Random()
        # Where the next search starts, so that large clusters are searched round-robin.
        self._next_start_node_index = 0

    def schedule(self, pod: Any, nodes: list[NodeInfo],
                 state: CycleState | None = None) -> ScheduleResult:
        """`state` (a new one if None) keeps what the plugins computed, for Reserve after it."""
        if not nodes:
            return ScheduleResult(status=Status.error(NO_NODES_AVAILABLE))
        state = state if state is not None else CycleState()
        state.all_nodes = nodes
        diagnosis = Diagnosis()
        status = self.framework.run_pre_filter(state, pod)
        if status.is_error:
            return ScheduleResult(status=status)
        if status.is_rejected:
            diagnosis.pre_filter_message = status.message
            diagnosis.unschedulable_plugins.add(status.plugin)
            return self._unschedulable(len(nodes), diagnosis)

        feasible, status = self._find_feasible(state, pod, nodes, diagnosis)
        if status.is_error:
            return ScheduleResult(status=status)
        evaluated = len(feasible) + len(diagnosis.node_to_status)
        if not feasible:
            return self._unschedulable(len(nodes), diagnosis)
        if len(feasible) == 1 or not self.framework.has_score_plugins:
            return ScheduleResult(feasible[0].name, SUCCESS, evaluated, len(feasible), diagnosis)

        status = self.framework.run_pre_score(state, pod, feasible)
        if not status.is_success:
            return ScheduleResult(status=status)
        scores, status = self.framework.run_score(state, pod, feasible)
        if not status.is_success:
            return ScheduleResult(status=status)
        return ScheduleResult(self._select_host(scores), SUCCESS, evaluated, len(feasible),
                              diagnosis)

    def _find_feasible(self, state: CycleState, pod: Any, nodes: list[NodeInfo],
                       diagnosis: Diagnosis) -> tuple[list[NodeInfo], Status]:
        wanted = num_feasible_nodes_to_find(len(nodes),
                                            self.framework.profile.percentage_of_nodes_to_score)
        feasible: list[NodeInfo] = []
        start = self._next_start_node_index % len(nodes)
        processed = 0
        run_filter = self.framework.run_filter
        for node in (nodes[start:] + nodes[:start]) if start else nodes:
            processed += 1
            status = run_filter(state, pod, node)
            if status is SUCCESS or status.is_success:
                feasible.append(node)
                if len(feasible) >= wanted:
                    break
            elif status.is_error:
                return [], status
            else:
                diagnosis.node_to_status[node.name] = status
                diagnosis.unschedulable_plugins.add(status.plugin)
        self._next_start_node_index = (start + processed) % len(nodes)
        return feasible, SUCCESS

    def _select_host(self, scores: dict[str, int]) -> str:
        """The highest total score; ties broken at random so equal nodes share the load."""
        best = max(scores.values())
        return self._rng.choice(sorted(name for name, s in scores.items() if s == best))

    @staticmethod
    def _unschedulable(num_nodes: int, diagnosis: Diagnosis) -> ScheduleResult:
        message = fit_error_message(num_nodes, diagnosis)
        return ScheduleResult(status=Status.unschedulable(message), diagnosis=diagnosis)
