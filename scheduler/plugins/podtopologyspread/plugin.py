"""Spreads a pod's group evenly over topology domains (zones, nodes): with whenUnsatisfiable
DoNotSchedule a node is filtered out when placing the pod there would make its domain hold more than
maxSkew matching pods above the emptiest domain; with ScheduleAnyway the skew only lowers the node's
score (kubernetes plugins/podtopologyspread). Nodes that do not match the pod's node affinity or
nodeSelector take no part (nodeAffinityPolicy Honor), taints do not matter (nodeTaintsPolicy
Ignore). A pod that names no constraints of its own is spread by the default ones, as
kube-scheduler's defaultingType System does: at most 3 apart over hostnames and 5 over zones,
ScheduleAnyway, among the pods its Services and its ReplicationController, ReplicaSet or
StatefulSet select (helper/spread.py); defaultingType List takes the profile's
defaultConstraints instead (args.py)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.selectors import LabelSelector
from scheduler.framework import cluster_events
from scheduler.framework.interfaces import Handle, PluginArgs, WithHandle
from scheduler.framework.node_table import NodeTable, Verdict
from scheduler.framework.snapshot import node_table
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import MAX_NODE_SCORE, CycleState, NodeInfo, PodInfo
from scheduler.plugins.helper.spread import default_selector
from scheduler.plugins.nodeaffinity import required_matches_labels
from scheduler.plugins.podtopologyspread.args import (
    DO_NOT_SCHEDULE,
    LABEL_HOSTNAME,
    SCHEDULE_ANYWAY,
    DefaultConstraint,
    default_constraints,
)
from scheduler.plugins.podtopologyspread.constraints import (
    Constraint,
    constraints,
    count_matching,
    has_all_keys,
    selector_key,
)
from scheduler.plugins.podtopologyspread.filtering import (
    PreFilterState,
    pre_filter_state,
    table_verdicts,
)

NAME = "PodTopologySpread"
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME


# Made once, tagged with the plugin: Filter returns them for many nodes per attempt.
_NODE_LABEL_NOT_MATCH = Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH).with_plugin(NAME)
_CONSTRAINTS_NOT_MATCH = Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH).with_plugin(NAME)


@dataclass
class _PreScoreState:
    constraints: list[Constraint]
    # Feasible nodes without every topology key: they score 0.
    ignored: set[str] = field(default_factory=set)
    # Per constraint: topology value -> matching pods in that domain (not for hostname).
    counts: list[dict[str, int]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)


class PodTopologySpread:
    name = NAME

    def __init__(
        self,
        defaults: Iterable[DefaultConstraint] = (),
        *,
        system_defaulted: bool = False,
        selector_of: Callable[[core_pb2.Pod], LabelSelector] | None = None,
    ) -> None:
        """`defaults` apply to pods without constraints of their own, each selecting what
        `selector_of` deduces for the pod (none without it)."""
        self.defaults = tuple(defaults)
        self.system_defaulted = system_defaulted
        self._selector_of = selector_of

    def _constraints(self, pod: core_pb2.Pod, when_unsatisfiable: str) -> list[Constraint]:
        """The pod's own constraints for `when_unsatisfiable`, or the defaults' with the pod's
        deduced selector (buildDefaultConstraints): none when nothing selects the pod."""
        if pod.spec.topology_spread_constraints:
            return constraints(pod, when_unsatisfiable)
        defaults = [d for d in self.defaults if d.when_unsatisfiable == when_unsatisfiable]
        if not defaults or self._selector_of is None:
            return []
        selector = self._selector_of(pod)
        if selector.empty:
            return []
        key = selector_key(selector)
        return [Constraint(d.max_skew, d.topology_key, selector, 1, key) for d in defaults]

    def events_to_register(self) -> tuple[cluster_events.ClusterEventWithHint, ...]:
        return (
            *cluster_events.on_nodes(
                self._after_pod_change,
                cluster_events.ASSIGNED_POD_ADD,
                cluster_events.ASSIGNED_POD_UPDATE,
                cluster_events.ASSIGNED_POD_DELETE,
            ),
            *cluster_events.on_nodes(
                self._after_node_change,
                cluster_events.NODE_ADD,
                cluster_events.NODE_UPDATE,
                cluster_events.NODE_DELETE,
            ),
        )

    def _after_pod_change(
        self, pod: core_pb2.Pod, old: object, new: object
    ) -> cluster_events.QueueingHint:
        """A bound pod of the pod's namespace that a constraint selects, added or deleted, or
        relabelled into or out of a selector (isSchedulableAfterPodChange)."""
        queue, skip = cluster_events.QueueingHint.QUEUE, cluster_events.QueueingHint.SKIP
        before, after = cluster_events.as_pod(old), cluster_events.as_pod(new)
        changed = after if after is not None else before
        if changed is None:
            return queue
        if changed.metadata.namespace != pod.metadata.namespace:
            return skip
        if before is not None and after is not None:
            if before.metadata.labels == after.metadata.labels:
                return skip
        hard = self._constraints(pod, DO_NOT_SCHEDULE)
        if not hard:
            return queue
        for p in (before, after):
            if p is not None and any(c.selects(p) for c in hard):
                return queue
        return skip

    def _after_node_change(
        self, pod: core_pb2.Pod, old: object, new: object
    ) -> cluster_events.QueueingHint:
        """A node added, changed or deleted that has every constraint's topology key
        (isSchedulableAfterNodeChange): one without is in no domain the constraints count."""
        node = cluster_events.as_node(new) or cluster_events.as_node(old)
        if node is None:
            return cluster_events.QueueingHint.QUEUE
        hard = self._constraints(pod, DO_NOT_SCHEDULE)
        labels = node.metadata.labels
        if all(c.topology_key in labels for c in hard):
            return cluster_events.QueueingHint.QUEUE
        return cluster_events.QueueingHint.SKIP

    # ------------------------------------------------------------------ filtering
    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        hard = self._constraints(pod, DO_NOT_SCHEDULE)
        if not hard:
            return Status.skip()
        state.write(_PRE_FILTER_KEY, pre_filter_state(pod, hard, node_table(state.all_nodes)))
        return SUCCESS

    def add_pod(
        self, state: CycleState, pod: core_pb2.Pod, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status:
        return self._update_with_pod(state, pod, pod_to_add, node, 1)

    def remove_pod(
        self, state: CycleState, pod: core_pb2.Pod, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status:
        return self._update_with_pod(state, pod, pod_to_remove, node, -1)

    @staticmethod
    def _update_with_pod(
        state: CycleState, pod: core_pb2.Pod, other: PodInfo, node: NodeInfo, delta: int
    ) -> Status:
        """Counts `other` in (or out of) its node's domains, as PreFilter would have: only a pod
        of the same namespace, not terminating, on a node with every topology key that the
        pod's required node affinity admits."""
        s = state.read(_PRE_FILTER_KEY, PreFilterState)
        if s is None:
            return Status.error(f"{NAME}: PreFilter state is missing")
        labels = node.labels
        if (
            other.namespace != pod.metadata.namespace
            or other.terminating
            or not has_all_keys(labels, s.constraints)
            or not required_matches_labels(pod, labels, node.name)
        ):
            return SUCCESS
        for c in s.constraints:
            if c.selector is not None and c.selector.matches(other.labels):
                key = (c.topology_key, labels[c.topology_key])
                s.counts[key] = s.counts.get(key, 0) + delta
        s.fixed = [
            (self_match, s.min_match(c))
            for c, (self_match, _) in zip(s.constraints, s.fixed, strict=True)
        ]
        return SUCCESS

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        s = state.read(_PRE_FILTER_KEY, PreFilterState)
        if s is None:
            return Status.error(f"{NAME}: PreFilter state is missing")
        labels = node.labels
        for c, (self_match, min_match) in zip(s.constraints, s.fixed, strict=True):
            if c.topology_key not in labels:
                return _NODE_LABEL_NOT_MATCH
            matched = s.counts.get((c.topology_key, labels[c.topology_key]), 0)
            if matched + self_match - min_match > c.max_skew:
                return _CONSTRAINTS_NOT_MATCH
        return SUCCESS

    def filter_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable
    ) -> Verdict | None:
        """filter for every row (filtering.table_verdicts)."""
        s = state.read(_PRE_FILTER_KEY, PreFilterState)
        if s is None:
            return None
        passing, missing_label, too_skewed = table_verdicts(s, table)
        return Verdict(
            passing,
            ((missing_label, _NODE_LABEL_NOT_MATCH), (too_skewed, _CONSTRAINTS_NOT_MATCH)),
        )

    # ------------------------------------------------------------------ scoring
    def pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]) -> Status:
        if not state.all_nodes:
            return Status.skip()
        soft = self._constraints(pod, SCHEDULE_ANYWAY)
        if not soft:
            return Status.skip()
        # Only a pod's own (or the profile's listed) constraints need every topology key on a
        # node: under the system defaults a node without a zone label still spreads by hostname.
        require_all = bool(pod.spec.topology_spread_constraints) or not self.system_defaulted
        s = _PreScoreState(soft, counts=[{} for _ in soft])
        for info in nodes:
            labels = info.labels
            if require_all and not has_all_keys(labels, soft):
                s.ignored.add(info.name)
                continue
            for i, c in enumerate(soft):
                if c.topology_key != LABEL_HOSTNAME:
                    s.counts[i].setdefault(labels.get(c.topology_key, ""), 0)
        for i, c in enumerate(soft):
            size = (
                len(nodes) - len(s.ignored)
                if c.topology_key == LABEL_HOSTNAME
                else len(s.counts[i])
            )
            # Counts in a topology of few domains weigh less than in one of many.
            s.weights.append(math.log(size + 2))
        for info in state.all_nodes:
            labels = info.labels
            if (require_all and not has_all_keys(labels, soft)) or not required_matches_labels(
                pod, labels, info.name
            ):
                continue
            for i, c in enumerate(soft):
                value = labels.get(c.topology_key, "")
                if value in s.counts[i]:
                    s.counts[i][value] += count_matching(info, c, pod.metadata.namespace)
        state.write(_PRE_SCORE_KEY, s)
        return SUCCESS

    def score(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> tuple[int, Status]:
        s = state.read(_PRE_SCORE_KEY, _PreScoreState)
        if s is None:
            return 0, Status.error(f"{NAME}: PreScore state is missing")
        if node.name in s.ignored:
            return 0, SUCCESS
        labels = node.labels
        score = 0.0
        for i, c in enumerate(s.constraints):
            if c.topology_key not in labels:
                continue
            if c.topology_key == LABEL_HOSTNAME:
                count = count_matching(node, c, pod.metadata.namespace)
            else:
                count = s.counts[i].get(labels[c.topology_key], 0)
            score += count * s.weights[i] + (c.max_skew - 1)
        return math.floor(score + 0.5), SUCCESS

    def normalize_score(
        self, state: CycleState, pod: core_pb2.Pod, scores: dict[str, int]
    ) -> Status:
        """Fewer matching pods score higher: the emptiest domain gets 100."""
        s = state.read(_PRE_SCORE_KEY, _PreScoreState)
        if s is None:
            return SUCCESS
        counted = [score for name, score in scores.items() if name not in s.ignored]
        low, high = min(counted, default=0), max(counted, default=0)
        for name, score in scores.items():
            if name in s.ignored:
                scores[name] = 0
            elif high == 0:
                scores[name] = MAX_NODE_SCORE
            else:
                scores[name] = MAX_NODE_SCORE * (high + low - score) // high
        return SUCCESS


def _new(args: PluginArgs, handle: Handle) -> PodTopologySpread:
    defaults = default_constraints(args)
    listers = (
        handle.lister(resources.SERVICE),
        handle.lister(resources.REPLICATION_CONTROLLER),
        handle.lister(resources.REPLICA_SET),
        handle.lister(resources.STATEFUL_SET),
    )
    return PodTopologySpread(
        defaults.constraints,
        system_defaulted=defaults.system,
        selector_of=(lambda pod: default_selector(pod, *listers)) if defaults.constraints else None,
    )


new = WithHandle(_new)
