"""Places a pod with regard to the pods already placed: its required affinity (a node in a topology
domain with a pod it selects), its required anti-affinity (no such pod there) and the existing pods'
required anti-affinity against it; scores its preferred terms and the existing pods' terms by weight
(kubernetes plugins/interpodaffinity). Pods without any such terms, in a cluster where no pod has
required anti-affinity, skip it at the cost of two field checks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from podplane.api.core.v1 import core_pb2
from scheduler.framework import cluster_events
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.snapshot import nodes_with_pod_affinity, nodes_with_required_anti_affinity
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import (
    MAX_NODE_SCORE,
    CycleState,
    NodeInfo,
    PodInfo,
    has_pod_affinity,
    has_required_anti_affinity,
)
from scheduler.plugins.helper.pod_affinity_terms import (
    AffinityTerm,
    WeightedAffinityTerm,
    matches_all,
    pod_terms,
)

NAME = "InterPodAffinity"
ERR_REASON_AFFINITY_RULES = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY_RULES = "node(s) didn't match pod anti-affinity rules"
ERR_REASON_EXISTING_ANTI_AFFINITY_RULES = "node(s) didn't satisfy existing pods anti-affinity rules"
DEFAULT_HARD_POD_AFFINITY_WEIGHT = 1
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME

# (topology key, topology value) -> how many pods (or how much weight) count there.
TopologyCounts = Counter[tuple[str, str]]


@dataclass
class _PreFilterState:
    affinity_terms: list[AffinityTerm]
    anti_affinity_terms: list[AffinityTerm]
    # Domains with pods that match all of the incoming pod's affinity terms.
    affinity_counts: TopologyCounts = field(default_factory=Counter)
    # Domains with pods that match one of the incoming pod's anti-affinity terms.
    anti_affinity_counts: TopologyCounts = field(default_factory=Counter)
    # Domains with existing pods whose required anti-affinity selects the incoming pod.
    existing_anti_affinity_counts: TopologyCounts = field(default_factory=Counter)

    def clone(self) -> _PreFilterState:
        return _PreFilterState(
            self.affinity_terms,
            self.anti_affinity_terms,
            Counter(self.affinity_counts),
            Counter(self.anti_affinity_counts),
            Counter(self.existing_anti_affinity_counts),
        )

    def update_with_pod(
        self, pod: core_pb2.Pod, other: PodInfo, labels: Mapping[str, str], by: int
    ) -> None:
        """Counts `other`, on a node with `labels`, in (by 1) or out of (by -1) the domains,
        as PreFilter would have."""
        namespace, pod_labels = pod.metadata.namespace, dict(pod.metadata.labels)
        if has_pod_affinity(other.pod) and has_required_anti_affinity(other.pod):
            for term in pod_terms(other.pod).required_anti_affinity:
                if term.selects(namespace, pod_labels):
                    _count(self.existing_anti_affinity_counts, labels, term.topology_key, by)
        if self.affinity_terms and matches_all(other.pod, self.affinity_terms):
            for term in self.affinity_terms:
                _count(self.affinity_counts, labels, term.topology_key, by)
        for term in self.anti_affinity_terms:
            if term.matches(other.pod):
                _count(self.anti_affinity_counts, labels, term.topology_key, by)


class _PreScoreState(Counter[tuple[str, str]]):
    """The score each topology domain earns, summed over the terms that apply."""


def _count(counts: TopologyCounts, labels: Mapping[str, str], key: str, by: int = 1) -> None:
    if key in labels:
        pair = (key, labels[key])
        counts[pair] += by
        if counts[pair] == 0:
            del counts[pair]  # a domain left with no pods is no domain with pods


class InterPodAffinity:
    name = NAME

    def __init__(self, hard_pod_affinity_weight: int = DEFAULT_HARD_POD_AFFINITY_WEIGHT) -> None:
        self.hard_pod_affinity_weight = hard_pod_affinity_weight

    def events_to_register(self) -> tuple[cluster_events.ClusterEventWithHint, ...]:
        return (
            *cluster_events.on_nodes(
                _after_pod_change,
                cluster_events.ASSIGNED_POD_ADD,
                cluster_events.ASSIGNED_POD_UPDATE,
                cluster_events.ASSIGNED_POD_DELETE,
            ),
            *cluster_events.on_nodes(
                _after_node_change, cluster_events.NODE_ADD, cluster_events.NODE_UPDATE
            ),
        )

    # ------------------------------------------------------------------ filtering
    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        terms = pod_terms(pod) if has_pod_affinity(pod) else None
        affinity = terms.required_affinity if terms else []
        anti_affinity = terms.required_anti_affinity if terms else []
        anti_nodes = nodes_with_required_anti_affinity(state.all_nodes)
        if not affinity and not anti_affinity and not anti_nodes:
            return Status.skip()
        s = _PreFilterState(affinity, anti_affinity)
        namespace, pod_labels = pod.metadata.namespace, dict(pod.metadata.labels)
        for info in anti_nodes:
            for existing in info.pods_with_required_anti_affinity.values():
                for term in pod_terms(existing.pod).required_anti_affinity:
                    if term.selects(namespace, pod_labels):
                        _count(s.existing_anti_affinity_counts, info.labels, term.topology_key)
        if affinity or anti_affinity:
            for info in state.all_nodes:
                labels = info.labels
                for existing in info.pods.values():
                    if matches_all(existing.pod, affinity):
                        for term in affinity:
                            _count(s.affinity_counts, labels, term.topology_key)
                    for term in anti_affinity:
                        if term.matches(existing.pod):
                            _count(s.anti_affinity_counts, labels, term.topology_key)
        state.write(_PRE_FILTER_KEY, s)
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
        state: CycleState, pod: core_pb2.Pod, other: PodInfo, node: NodeInfo, by: int
    ) -> Status:
        s = state.read(_PRE_FILTER_KEY, _PreFilterState)
        if s is None:
            return Status.error(f"{NAME}: PreFilter state is missing")
        s.update_with_pod(pod, other, node.labels, by)
        return SUCCESS

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        s = state.read(_PRE_FILTER_KEY, _PreFilterState)
        if s is None:
            return Status.error(f"{NAME}: PreFilter state is missing")
        labels = node.labels
        if not _satisfies_affinity(s, pod, labels):
            return Status.unresolvable(ERR_REASON_AFFINITY_RULES)
        for term in s.anti_affinity_terms:
            key = term.topology_key
            if key in labels and s.anti_affinity_counts[(key, labels[key])] > 0:
                return Status.unschedulable(ERR_REASON_ANTI_AFFINITY_RULES)
        for (key, value), n in s.existing_anti_affinity_counts.items():
            if n > 0 and labels.get(key) == value:
                return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES)
        return SUCCESS

    # ------------------------------------------------------------------ scoring
    def pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]) -> Status:
        terms = pod_terms(pod) if has_pod_affinity(pod) else None
        preferred = terms.preferred_affinity if terms else []
        preferred_anti = terms.preferred_anti_affinity if terms else []
        incoming_terms = bool(preferred or preferred_anti)
        # Unless the pod has preferred terms itself, only pods with terms of their own matter.
        candidates = state.all_nodes if incoming_terms else nodes_with_pod_affinity(state.all_nodes)
        if not candidates:
            return Status.skip()  # as below when no domain scores: the usual pod and cluster
        scores = _PreScoreState()
        incoming = (pod.metadata.namespace, dict(pod.metadata.labels))
        for info in candidates:
            labels = info.labels
            pods = info.pods if incoming_terms else info.pods_with_affinity
            for existing in pods.values():
                _score_incoming_terms(scores, labels, existing.pod, preferred, 1)
                _score_incoming_terms(scores, labels, existing.pod, preferred_anti, -1)
                if existing.uid in info.pods_with_affinity:
                    self._score_existing_terms(scores, labels, incoming, existing.pod)
        if not scores:
            return Status.skip()
        state.write(_PRE_SCORE_KEY, scores)
        return SUCCESS

    def _score_existing_terms(
        self,
        scores: TopologyCounts,
        labels: Mapping[str, str],
        incoming: tuple[str, dict[str, str]],
        existing: core_pb2.Pod,
    ) -> None:
        """An existing pod's terms that select the incoming pod (its namespace and labels) draw
        it near or push it away."""
        terms = pod_terms(existing)
        if self.hard_pod_affinity_weight > 0:
            for term in terms.required_affinity:
                if term.selects(*incoming):
                    _count(scores, labels, term.topology_key, self.hard_pod_affinity_weight)
        for weighted in terms.preferred_affinity:
            if weighted.term.selects(*incoming):
                _count(scores, labels, weighted.term.topology_key, weighted.weight)
        for weighted in terms.preferred_anti_affinity:
            if weighted.term.selects(*incoming):
                _count(scores, labels, weighted.term.topology_key, -weighted.weight)

    def score(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> tuple[int, Status]:
        scores = state.read(_PRE_SCORE_KEY, _PreScoreState)
        if scores is None:
            return 0, Status.error(f"{NAME}: PreScore state is missing")
        labels = node.labels
        return sum(n for (key, value), n in scores.items() if labels.get(key) == value), SUCCESS

    def normalize_score(
        self, state: CycleState, pod: core_pb2.Pod, scores: dict[str, int]
    ) -> Status:
        """Min-max scaling into 0..100 (scores may be negative before it)."""
        if not scores:
            return SUCCESS
        low, high = min(scores.values()), max(scores.values())
        for name, score in scores.items():
            scores[name] = int(MAX_NODE_SCORE * (score - low) / (high - low)) if high > low else 0
        return SUCCESS


def _satisfies_affinity(s: _PreFilterState, pod: core_pb2.Pod, labels: Mapping[str, str]) -> bool:
    """Every affinity term's domain on this node holds a selected pod. The first pod of a group
    whose terms select itself may go anywhere with the topology labels while no pod matches yet,
    or it could never start."""
    pods_exist = True
    for term in s.affinity_terms:
        key = term.topology_key
        if key not in labels:
            return False
        if s.affinity_counts[(key, labels[key])] <= 0:
            pods_exist = False
    if pods_exist:
        return True
    return not s.affinity_counts and matches_all(pod, s.affinity_terms)


def _score_incoming_terms(
    scores: TopologyCounts,
    labels: Mapping[str, str],
    existing: core_pb2.Pod,
    terms: list[WeightedAffinityTerm],
    sign: int,
) -> None:
    for weighted in terms:
        if weighted.term.matches(existing):
            _count(scores, labels, weighted.term.topology_key, sign * weighted.weight)


def _after_pod_change(pod: core_pb2.Pod, old: object, new: object) -> cluster_events.QueueingHint:
    """Whether a bound pod added, relabelled or deleted may let the pod in
    (isSchedulableAfterPodChange): one added that its affinity selects; one relabelled into its
    affinity or out of its anti-affinity; one deleted that its anti-affinity selected, or that
    had required anti-affinity of its own (which may have kept the pod away)."""
    queue, skip = cluster_events.QueueingHint.QUEUE, cluster_events.QueueingHint.SKIP
    before, after = cluster_events.as_pod(old), cluster_events.as_pod(new)
    if before is None and after is None:
        return queue
    if any(p is not None and not p.spec.node_name for p in (before, after)):
        return skip  # an unscheduled pod is in no topology domain
    terms = pod_terms(pod)
    affinity, anti = terms.required_affinity, terms.required_anti_affinity
    if before is not None and after is not None:
        if not matches_all(before, affinity) and matches_all(after, affinity):
            return queue
        if any(t.matches(before) for t in anti) and not any(t.matches(after) for t in anti):
            return queue
        return skip
    if after is not None:
        return queue if matches_all(after, affinity) else skip
    assert before is not None
    if any(t.matches(before) for t in anti) or has_required_anti_affinity(before):
        return queue
    return skip


def _after_node_change(pod: core_pb2.Pod, old: object, new: object) -> cluster_events.QueueingHint:
    """A node added, or one whose labels (its topology domains) changed."""
    before, after = cluster_events.as_node(old), cluster_events.as_node(new)
    if before is not None and after is not None and before.metadata.labels == after.metadata.labels:
        return cluster_events.QueueingHint.SKIP
    return cluster_events.QueueingHint.QUEUE


def new(args: PluginArgs) -> InterPodAffinity:
    weight = args.get("hardPodAffinityWeight", DEFAULT_HARD_POD_AFFINITY_WEIGHT)
    if not isinstance(weight, int) or not 0 <= weight <= 100:
        raise ValueError(
            f"{NAME}: hardPodAffinityWeight: must be in the range 0-100, got {weight!r}"
        )
    return InterPodAffinity(weight)
