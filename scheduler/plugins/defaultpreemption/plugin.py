"""DefaultPreemption, the PostFilter plugin that makes room for a pod no node can take by evicting
pods of lower priority (kubernetes plugins/defaultpreemption). Which pods, on which node: the
framework's preemption evaluator (scheduler/framework/preemption); what this plugin decides:
- who may preempt: not a pod with preemptionPolicy Never, nor one whose nominated node still has
  lower-priority pods terminating because of an earlier preemption;
- the victims on a node (victims.py): every lower-priority pod taken away, then as many given
  back as still let the pod fit, most important first and those a PodDisruptionBudget protects
  before the others;
- how many candidate nodes to look at: minCandidateNodesPercentage of the potential nodes (10 by
  default), at least minCandidateNodesAbsolute (100);
- the PodDisruptionBudgets to respect: the scheduler's informer of them (policy/v1)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from scheduler.framework.diagnosis import NodeToStatus
from scheduler.framework.interfaces import FrameworkHandle, PluginArgs
from scheduler.framework.nominating import PendingWrites, PostFilterResult
from scheduler.framework.preemption.candidates import Victims
from scheduler.framework.preemption.disruption_budgets import DisruptionBudget
from scheduler.framework.preemption.evaluator import Evaluator, VictimsBySum
from scheduler.framework.preemption.executor import (
    DISRUPTION_TARGET,
    REASON_PREEMPTION_BY_SCHEDULER,
)
from scheduler.framework.snapshot import node_named
from scheduler.framework.status import Code, Status
from scheduler.framework.types import CycleState, NodeInfo, PodInfo, pod_priority
from scheduler.plugins.defaultpreemption.victims import select_victims
from scheduler.plugins.defaultpreemption.victims_by_sum import (
    filters_on_sums,
    nominated_beside,
    select_victims_by_sum,
)

NAME = "DefaultPreemption"
DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE = 10
DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE = 100
PREEMPT_NEVER = "Never"
MESSAGE_PREFIX = "preemption: "


def terminating_by_preemption(pod: core_pb2.Pod) -> bool:
    """Being deleted because a scheduler preempted it (its DisruptionTarget condition says so)."""
    if not pod.metadata.deletion_timestamp:
        return False
    for condition in pod.status.conditions:
        if condition.type == DISRUPTION_TARGET:
            return condition.status == "True" and condition.reason == REASON_PREEMPTION_BY_SCHEDULER
    return False


class DefaultPreemption:
    name = NAME

    def __init__(
        self,
        framework: FrameworkHandle,
        *,
        min_candidate_nodes_percentage: int = DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE,
        min_candidate_nodes_absolute: int = DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE,
        rng: random.Random | None = None,
    ) -> None:
        self._framework = framework
        self.min_candidate_nodes_percentage = min_candidate_nodes_percentage
        self.min_candidate_nodes_absolute = min_candidate_nodes_absolute
        self._rng = rng or random.Random()
        # The scheduler's informer of PodDisruptionBudgets (made here, so that the scheduler
        # starts it and waits for it before it schedules).
        budgets = framework.handle.lister(resources.POD_DISRUPTION_BUDGET)
        self.evaluator = Evaluator(
            framework,
            self,
            budgets=lambda: [DisruptionBudget.of(pdb) for pdb in budgets.list()],
        )

    def post_filter(
        self, state: CycleState, pod: core_pb2.Pod, statuses: NodeToStatus
    ) -> tuple[PostFilterResult | None, Status]:
        result, status = self.evaluator.preempt(state, pod, statuses)
        if result is not None and result.pending is not None:
            result = PostFilterResult(result.nominating_info, _prefixed(result.pending))
        if status.message:
            return result, Status(status.code, (MESSAGE_PREFIX + status.message,))
        return result, status

    # ------------------------------------------------------------------ preemption.Interface
    def num_candidates(self, num_nodes: int) -> int:
        """minCandidateNodesPercentage of the nodes, at least minCandidateNodesAbsolute, at most
        all of them."""
        n = num_nodes * self.min_candidate_nodes_percentage // 100
        return min(max(n, self.min_candidate_nodes_absolute), num_nodes)

    def offset_and_num_candidates(self, num_nodes: int) -> tuple[int, int]:
        offset = self._rng.randrange(num_nodes) if num_nodes > 0 else 0
        return offset, self.num_candidates(num_nodes)

    def pod_eligible_to_preempt_others(
        self, state: CycleState, pod: core_pb2.Pod, nominated_node_status: Status
    ) -> tuple[bool, str]:
        if pod.spec.preemption_policy == PREEMPT_NEVER:
            return False, "not eligible due to preemptionPolicy=Never."
        nominated = pod.status.nominated_node_name
        if not nominated:
            return True, ""
        # Nothing leaving the nominated node will make the pod fit there: look elsewhere.
        if nominated_node_status.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE:
            return True, ""
        node = node_named(state.all_nodes, nominated)
        if node is not None:
            priority = pod_priority(pod)
            for info in node.pods.values():
                if self.is_preemption_allowed(info, priority) and terminating_by_preemption(
                    info.pod
                ):
                    return False, "not eligible due to a terminating pod on the nominated node."
        return True, ""

    def select_victims_on_node(
        self,
        state: CycleState,
        pod: core_pb2.Pod,
        node: NodeInfo,
        budgets: Sequence[DisruptionBudget],
    ) -> Victims:
        priority = pod_priority(pod)
        return select_victims(
            self._framework,
            state,
            pod,
            node,
            budgets,
            lambda victim: self.is_preemption_allowed(victim, priority),
            datetime.now(UTC),
        )

    def victims_by_sum(self, state: CycleState, pod: core_pb2.Pod) -> VictimsBySum | None:
        framework = self._framework
        filters = filters_on_sums(framework, state)
        if filters is None:
            return None
        priority = pod_priority(pod)
        now = datetime.now(UTC)

        def preemptible(victim: PodInfo) -> bool:
            return self.is_preemption_allowed(victim, priority)

        def on_node(node: NodeInfo, budgets: Sequence[DisruptionBudget]) -> Victims | None:
            if nominated_beside(framework, pod, node):
                return None
            return select_victims_by_sum(filters, state, pod, node, budgets, preemptible, now)

        return on_node

    @staticmethod
    def is_preemption_allowed(victim: PodInfo, preemptor_priority: int) -> bool:
        """Only pods of lower priority than the preemptor's are preempted."""
        return victim.priority < preemptor_priority


def _prefixed(pending: PendingWrites) -> PendingWrites:
    """The writes' failure says it was preemption's, as the plugin's statuses do."""

    async def run() -> Status:
        status = await pending()
        if status.is_success or not status.message:
            return status
        return Status(status.code, (MESSAGE_PREFIX + status.message,))

    return run


def _percentage(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ValueError(
            f"{NAME}: minCandidateNodesPercentage: Invalid value: {value!r}: "
            "not in valid range [0, 100]"
        )
    return value


def _absolute(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(
            f"{NAME}: minCandidateNodesAbsolute: Invalid value: {value!r}: "
            "not in valid range [0, inf)"
        )
    return value


def new(args: PluginArgs, framework: FrameworkHandle) -> DefaultPreemption:
    """DefaultPreemptionArgs, validated as kube-scheduler does."""
    percentage = _percentage(
        args.get("minCandidateNodesPercentage", DEFAULT_MIN_CANDIDATE_NODES_PERCENTAGE)
    )
    absolute = _absolute(
        args.get("minCandidateNodesAbsolute", DEFAULT_MIN_CANDIDATE_NODES_ABSOLUTE)
    )
    if percentage == 0 and absolute == 0:
        raise ValueError(
            f"{NAME}: minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same "
            "time as minCandidateNodesAbsolute, minCandidateNodesAbsolute: Invalid value: 0: "
            "cannot be zero at the same time as minCandidateNodesPercentage"
        )
    return DefaultPreemption(
        framework,
        min_candidate_nodes_percentage=percentage,
        min_candidate_nodes_absolute=absolute,
    )
