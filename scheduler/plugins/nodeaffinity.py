"""Fits a pod only to nodes whose labels match its spec.nodeSelector and its required node affinity,
and prefers nodes that match its preferred terms (kubernetes plugins/nodeaffinity and
component-helpers/scheduling/corev1/nodeaffinity)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.node_affinity import (
    OBJECT_NAME_FIELD,
    CopiedRequirement,
    Requirement,
    field_matches,
    required_matches,
    required_matches_labels,
    requirement_matches,
    term_matches,
)
from scheduler.framework import cluster_events as ce
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.node_table import Bools, NodeTable, Verdict
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins.helper.normalize_score import default_normalize_score

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_CONFLICT = "pod affinity terms conflict"
_PRE_SCORE_KEY = "PreScore" + NAME
_PRE_FILTER_KEY = "PreFilter" + NAME
# The matching itself is podplane.apimachinery.node_affinity's, which the DaemonSet controller
# shares; re-exported for the plugins that import it from here.
__all__ = [
    "NodeAffinity",
    "RequiredNodeAffinity",
    "Requirement",
    "field_matches",
    "new",
    "required_matches",
    "required_matches_labels",
    "requirement_matches",
    "term_matches",
]


@dataclass(frozen=True)
class RequiredNodeAffinity:
    """The pod's nodeSelector and required terms (None: no required affinity), as Kubernetes'
    PreFilter compiles them once per attempt (nodeaffinity.GetRequiredNodeAffinity)."""

    node_selector: dict[str, str]
    terms: tuple[tuple[tuple[CopiedRequirement, ...], tuple[CopiedRequirement, ...]], ...] | None

    @classmethod
    def of(cls, pod: core_pb2.Pod) -> RequiredNodeAffinity:
        affinity = pod.spec.affinity.node_affinity
        terms = None
        if affinity.HasField("required_during_scheduling_ignored_during_execution"):
            required = affinity.required_during_scheduling_ignored_during_execution
            terms = tuple(
                (
                    tuple(
                        CopiedRequirement(r.key, r.operator, tuple(r.values))
                        for r in t.match_expressions
                    ),
                    tuple(
                        CopiedRequirement(r.key, r.operator, tuple(r.values))
                        for r in t.match_fields
                    ),
                )
                for t in required.node_selector_terms
            )
        return cls(dict(pod.spec.node_selector), terms)

    def node_names(self) -> frozenset[str] | None:
        """The only nodes the required terms allow by name, if every term names some with a
        matchFields metadata.name In (a term's requirements ANDed, the terms ORed); None if any
        node may match; empty if the terms conflict (kubernetes NodeAffinity.PreFilter)."""
        if not self.terms:
            return None
        names: set[str] = set()
        for _, fields in self.terms:
            term_names: set[str] | None = None
            for r in fields:
                if r.key == OBJECT_NAME_FIELD and r.operator == "In":
                    values = set(r.values)
                    term_names = values if term_names is None else term_names & values
            if term_names is None:  # this term may match any node
                return None
            names |= term_names
        return frozenset(names)

    def matches(self, node: NodeInfo) -> bool:
        """required_matches(pod, node.node), from the node's cached labels."""
        labels = node.labels
        if any(labels.get(k) != v for k, v in self.node_selector.items()):
            return False
        if self.terms is None:
            return True
        return any(
            (expressions or fields)
            and all(requirement_matches(r, labels) is True for r in expressions)
            and all(field_matches(r, node.name) is True for r in fields)
            for expressions, fields in self.terms
        )

    def matches_table(self, table: NodeTable) -> Bools:
        """matches() for every row of the table, from its label columns: each requirement is
        evaluated once per distinct value of its label (and once for nodes without it)."""
        size = len(table)
        rows = np.ones(size, np.bool_)
        for key, value in self.node_selector.items():
            codes, values = table.label_codes(key)
            rows &= codes == (values.index(value) if value in values else -2)
        if self.terms is None:
            return rows
        any_term = np.zeros(size, np.bool_)
        for expressions, fields in self.terms:
            if not expressions and not fields:
                continue  # an empty term matches no node
            term = np.ones(size, np.bool_)
            for r in expressions:
                codes, values = table.label_codes(r.key)
                # Indexed by code; the last entry, for code -1, is for nodes without the label.
                by_value = np.array(
                    [requirement_matches(r, {r.key: v}) is True for v in values]
                    + [requirement_matches(r, {}) is True],
                    np.bool_,
                )
                term &= by_value[codes]
            for r in fields:
                term &= _field_rows(r, table)
            any_term |= term
        return rows & any_term


def _field_rows(r: CopiedRequirement, table: NodeTable) -> Bools:
    """field_matches(r, name) is True for every row at once: matchFields names one node
    (metadata.name, In or NotIn, one value), found by its row, not by a look at each node (a
    DaemonSet's pod pins itself to its node this way; at 5000 nodes the look cost 20 ms a pod)."""
    size = len(table)
    if r.operator not in ("In", "NotIn") or len(r.values) != 1:
        return np.zeros(size, np.bool_)  # field_matches says None: not a match
    equal = np.zeros(size, np.bool_)
    if r.key == OBJECT_NAME_FIELD:
        row = table.row_of(r.values[0])
        if row is not None:
            equal[row] = True
    return equal if r.operator == "In" else ~equal


_REJECTED = Status.unresolvable(ERR_REASON_POD).with_plugin(NAME)


class _PreferredTerms(list[tuple[int, core_pb2.NodeSelectorTerm]]):
    """The pod's preferred terms with a weight, as (weight, term), kept by PreScore for Score."""


class NodeAffinity:
    name = NAME
    # Its Filter reads the node alone, not the pods on it (interfaces.NodeOnlyFilter).
    filter_reads_node_only = True

    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        """Skip: the pod has neither a nodeSelector nor required node affinity, so Filter has
        nothing to check; unresolvable: its terms name nodes by name and no name is allowed by
        them all (as Kubernetes' PreFilter)."""
        if pod.spec.node_selector or pod.spec.affinity.node_affinity.HasField(
            "required_during_scheduling_ignored_during_execution"
        ):
            required = RequiredNodeAffinity.of(pod)
            state.write(_PRE_FILTER_KEY, required)
            if required.node_names() == frozenset():
                return Status.unresolvable(ERR_REASON_CONFLICT)
            return SUCCESS
        return Status.skip()

    def pre_filter_node_names(self, state: CycleState, pod: core_pb2.Pod) -> frozenset[str] | None:
        """The nodes the pod's terms name, if each names some (a DaemonSet pod's own node)."""
        required = state.read(_PRE_FILTER_KEY, RequiredNodeAffinity)
        return required.node_names() if required is not None else None

    def filter(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> Status:
        required = state.read(_PRE_FILTER_KEY, RequiredNodeAffinity)
        if required is not None:
            return SUCCESS if required.matches(node) else _REJECTED
        # Called without PreFilter: read the pod itself.
        return SUCCESS if required_matches_labels(pod, node.labels, node.name) else _REJECTED

    def filter_table(
        self, state: CycleState, pod: core_pb2.Pod, table: NodeTable
    ) -> Verdict | None:
        required = state.read(_PRE_FILTER_KEY, RequiredNodeAffinity)
        if required is None:
            return None
        matching = required.matches_table(table)
        return Verdict(matching, ((~matching, _REJECTED),))

    def events_to_register(self) -> tuple[ce.ClusterEventWithHint, ...]:
        return ce.on_nodes(_after_node_change, ce.NODE_ADD, ce.NODE_UPDATE)

    def pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: Sequence[NodeInfo]) -> Status:
        preferred = (
            pod.spec.affinity.node_affinity.preferred_during_scheduling_ignored_during_execution
        )
        if not preferred:
            return Status.skip()
        state.write(
            _PRE_SCORE_KEY, _PreferredTerms((p.weight, p.preference) for p in preferred if p.weight)
        )
        return SUCCESS

    def score(self, state: CycleState, pod: core_pb2.Pod, node: NodeInfo) -> tuple[int, Status]:
        preferred = state.read(_PRE_SCORE_KEY, _PreferredTerms)
        if preferred is None:
            return 0, Status.error(f"{NAME}: PreScore state is missing")
        total = sum(
            weight for weight, term in preferred if term_matches(term, node.labels, node.name)
        )
        return total, SUCCESS

    def normalize_score(
        self, state: CycleState, pod: core_pb2.Pod, scores: dict[str, int]
    ) -> Status:
        default_normalize_score(scores)
        return SUCCESS


def _after_node_change(pod: core_pb2.Pod, old: object, new: object) -> ce.QueueingHint:
    """A node added that matches the pod's nodeSelector and required affinity, or updated from
    not matching to matching (isSchedulableAfterNodeChange); a pod a node matched before and
    still matches was not held back by this node's labels."""
    return ce.became(lambda node: required_matches(pod, node), old, new)


def new(args: PluginArgs) -> NodeAffinity:
    return NodeAffinity()
