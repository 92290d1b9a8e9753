"""One scheduling decision: filter the nodes, score the feasible ones, pick the best
(kubernetes pkg/scheduler/schedule_one.go schedulePod, findNodesThatFitPod, selectHost)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from podplane.api.core.v1 import core_pb2
from scheduler.framework.diagnosis import BulkRejections, Diagnosis, fit_error_message
from scheduler.framework.node_table import Bools, Ints, NodeTable, TableRows
from scheduler.framework.runtime import Framework, TableFilter
from scheduler.framework.snapshot import node_named, node_table
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

    def schedule(
        self, pod: core_pb2.Pod, nodes: list[NodeInfo], state: CycleState | None = None
    ) -> ScheduleResult:
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
            # Every node has this status, for the PostFilter plugins.
            diagnosis.pre_filter_status = status
            diagnosis.rejecting_plugins.add(status.plugin)
            diagnosis.rejecting_plugins.update(state.node_names_plugins)
            return self._unschedulable(len(nodes), diagnosis)

        if pod.status.nominated_node_name:
            # Where preemption made room for it: likely the only node that fits, so tried first.
            nominated = node_named(nodes, pod.status.nominated_node_name)
            if nominated is not None:
                status = self.framework.run_filter_with_nominated_pods(state, pod, nominated)
                if status.is_success:
                    return ScheduleResult(nominated.name, SUCCESS, 1, 1, diagnosis)
                if status.is_error:
                    return ScheduleResult(status=status)
                diagnosis.reject(nominated.name, status)

        if state.node_names is not None:
            feasible, status = self._find_feasible_among(state, pod, nodes, diagnosis)
        else:
            feasible, status = self._find_feasible(state, pod, nodes, diagnosis)
        if status.is_error:
            return ScheduleResult(status=status)
        evaluated = len(feasible) + diagnosis.num_rejected()
        if not feasible:
            return self._unschedulable(len(nodes), diagnosis)
        if len(feasible) == 1 or not self.framework.has_score_plugins:
            return ScheduleResult(feasible[0].name, SUCCESS, evaluated, len(feasible), diagnosis)

        status = self.framework.run_pre_score(state, pod, feasible)
        if not status.is_success:
            return ScheduleResult(status=status)
        totals, status = self.framework.run_score_totals(state, pod, feasible)
        if not status.is_success:
            return ScheduleResult(status=status)
        return ScheduleResult(
            self._select_host(feasible, totals), SUCCESS, evaluated, len(feasible), diagnosis
        )

    def _find_feasible(
        self, state: CycleState, pod: core_pb2.Pod, nodes: list[NodeInfo], diagnosis: Diagnosis
    ) -> tuple[Sequence[NodeInfo], Status]:
        """The first `wanted` nodes that pass every filter, searching from where the last attempt
        stopped. The filters that can judge in bulk first mark the nodes they certainly pass and
        those whose rejection they know; a node passed needs only the other filters, a node
        neither passed nor known rejected all of them."""
        wanted = num_feasible_nodes_to_find(
            len(nodes), self.framework.profile.percentage_of_nodes_to_score
        )
        table = node_table(nodes)
        size = len(table)
        start = self._next_start_node_index % size
        judged = self.framework.run_filter_table(state, pod, table)
        # The nodes pods are nominated to: the bulk verdicts do not count those pods, so these
        # go through the filters node by node, with the nominated pods (two passes).
        nominated = self.framework.nodes_with_nominated_pods()
        certain, rejected = _in_search_order(judged, table, start, nominated)
        remaining = bool(state.remaining_filters)
        to_check: Iterable[int]
        if remaining:
            to_check = range(size)
        else:  # passed nodes are feasible as they are, known rejections need no call
            unknown = ~certain if rejected is None else ~certain & (rejected < 0)
            to_check = unknown.nonzero()[0].tolist()
        # The positions found, in order: runs of passed positions as arrays, and single ones
        # judged node by node, gathered into an array before the next run.
        found: list[Ints] = []
        singles: list[int] = []
        count = 0
        searched = size
        next_position = 0
        run_filter = (
            self.framework.run_filter_with_nominated_pods
            if nominated
            else self.framework.run_filter
        )
        run_remaining = self.framework.run_remaining_filters
        statuses = judged.statuses
        for position in itertools.chain(to_check, (size,)):
            if position > next_position:  # positions to_check skipped: passed ones are feasible
                passed = certain[next_position:position].nonzero()[0][: wanted - count]
                if len(passed):
                    if singles:
                        found.append(np.array(singles, np.int64))
                        singles.clear()
                    found.append(passed + next_position)
                    count += len(passed)
                    if count >= wanted:
                        searched = next_position + int(passed[-1]) + 1
                        break
            if position == size:
                break
            next_position = position + 1
            node = nodes[(start + position) % size]
            if certain[position]:
                status = run_remaining(state, pod, node)
            elif rejected is not None and rejected[position] >= 0:
                status = statuses[rejected[position]]
            else:
                status = run_filter(state, pod, node)
            if status is SUCCESS or status.is_success:
                singles.append(position)
                count += 1
                if count >= wanted:
                    searched = position + 1
                    break
            elif status.is_error:
                return [], status
            else:
                diagnosis.reject(node.name, status)
        if not remaining and rejected is not None:  # the known rejections among those searched
            _record_known_rejections(
                diagnosis,
                table,
                start,
                rejected[:searched],
                statuses,
                pod.status.nominated_node_name or None,
            )
        self._next_start_node_index = (start + searched) % size
        if singles:
            found.append(np.array(singles, np.int64))
        if not found:
            return [], SUCCESS
        positions = found[0] if len(found) == 1 else np.concatenate(found)
        return TableRows(table, (positions + start) % size), SUCCESS

    def _find_feasible_among(
        self, state: CycleState, pod: core_pb2.Pod, nodes: list[NodeInfo], diagnosis: Diagnosis
    ) -> tuple[Sequence[NodeInfo], Status]:
        """The feasible nodes among those PreFilter allowed (state.node_names, the ones in the
        snapshot), each through the filters; every other node is UnschedulableAndUnresolvable
        unseen, for the plugins that allowed none of them (kubernetes findNodesThatFitPod with a
        PreFilterResult): a DaemonSet's pod looks at its own node, not at 15000."""
        plugins = state.node_names_plugins
        diagnosis.rejecting_plugins.update(plugins)
        diagnosis.absent = Status.unresolvable(
            f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(plugins))}]"
        )
        allowed = [
            node
            for name in sorted(state.node_names or ())
            if (node := node_named(nodes, name)) is not None
        ]
        size = len(allowed)
        wanted = num_feasible_nodes_to_find(
            size, self.framework.profile.percentage_of_nodes_to_score
        )
        feasible: list[NodeInfo] = []
        for i in range(size):
            node = allowed[(self._next_start_node_index + i) % size]
            status = self.framework.run_filter_with_nominated_pods(state, pod, node)
            if status.is_success:
                feasible.append(node)
                if len(feasible) >= wanted:
                    break
            elif status.is_error:
                return [], status
            else:
                diagnosis.reject(node.name, status)
        processed = len(feasible) + diagnosis.num_rejected()
        self._next_start_node_index = (self._next_start_node_index + processed) % len(nodes)
        return feasible, SUCCESS

    def _select_host(self, nodes: Sequence[NodeInfo], totals: Ints) -> str:
        """The highest total score; ties broken at random so equal nodes share the load."""
        best = (totals == totals.max()).nonzero()[0]
        return nodes[int(best[self._rng.randrange(len(best))])].name

    @staticmethod
    def _unschedulable(num_nodes: int, diagnosis: Diagnosis) -> ScheduleResult:
        diagnosis.num_all_nodes = num_nodes
        message = fit_error_message(num_nodes, diagnosis)
        return ScheduleResult(status=Status.unschedulable(message), diagnosis=diagnosis)


def _in_search_order(
    judged: TableFilter, table: NodeTable, start: int, nominated: Collection[str]
) -> tuple[Bools, Ints | None]:
    """The bulk verdicts by position of the search (position k is row (start + k) % size): the
    positions passed for certain, and the index of each one's known rejection (-1 for none;
    None where no rejection is known, the usual pod and cluster). The nodes in `nominated` are
    neither."""
    size = len(table)
    certain = np.concatenate((judged.passing[start:], judged.passing[:start]))
    rejected = (
        np.concatenate((judged.rejected[start:], judged.rejected[:start]))
        if judged.rejected is not None
        else None
    )
    if nominated:
        rows = [row for name in nominated if (row := table.row_of(name)) is not None]
        positions = (np.array(rows, np.int64) - start) % size
        certain[positions] = False
        if rejected is not None:
            rejected[positions] = -1
    return certain, rejected


def _record_known_rejections(
    diagnosis: Diagnosis,
    table: NodeTable,
    start: int,
    rejected: Ints,
    statuses: list[Status],
    nominated: str | None,
) -> None:
    """The known rejections among the positions searched (`rejected`, from position 0) into
    `diagnosis`, by row: hundreds of nodes where a filter rules out a whole zone, or every node
    for a pod no node takes, without a look at each. The pod's `nominated` node, judged before
    the search, has the later verdict if judged here again (kubernetes NodeToStatus.Set)."""
    known = (rejected >= 0).nonzero()[0]
    if not len(known):
        return
    bulk = BulkRejections(table, (known + start) % len(table), rejected[known], statuses)
    diagnosis.bulk = bulk
    if nominated is not None and bulk.get(nominated) is not None:
        diagnosis.node_to_status.pop(nominated, None)
