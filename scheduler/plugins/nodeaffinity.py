"""Fits a pod only to nodes whose labels match its spec.nodeSelector and its required node affinity,
and prefers nodes that match its preferred terms (kubernetes plugins/nodeaffinity and
component-helpers/scheduling/corev1/nodeaffinity)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from podplane.api.core.v1 import core_pb2
from scheduler.framework.interfaces import PluginArgs
from scheduler.framework.node_table import Bools, NodeTable, Verdict
from scheduler.framework.status import SUCCESS, Status
from scheduler.framework.types import CycleState, NodeInfo
from scheduler.plugins.helper.normalize_score import default_normalize_score

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
_PRE_SCORE_KEY = "PreScore" + NAME
_PRE_FILTER_KEY = "PreFilter" + NAME
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _int(value: str) -> int | None:
    """A base-10 integer as Go's strconv.ParseInt reads it, or None."""
    return int(value) if _INTEGER.fullmatch(value) else None


class _Requirement(NamedTuple):
    """A matchExpressions/matchFields entry copied out of the pod (what requirement_matches and
    field_matches read), so that matching a node reads no protobuf."""

    key: str
    operator: str
    values: tuple[str, ...]


# A requirement as the pod has it, or copied out of it.
Requirement = core_pb2.NodeSelectorRequirement | _Requirement


def requirement_matches(req: Requirement, labels: Mapping[str, str]) -> bool | None:
    """Whether a matchExpressions requirement matches the labels; None when it is malformed."""
    op, values = req.operator, list(req.values)
    present, value = req.key in labels, labels.get(req.key, "")
    if op in ("In", "NotIn"):
        if not values:
            return None
        return (present and value in values) if op == "In" else (not present or value not in values)
    if op in ("Exists", "DoesNotExist"):
        if values:
            return None
        return present if op == "Exists" else not present
    if op in ("Gt", "Lt"):
        bound = _int(values[0]) if len(values) == 1 else None
        if bound is None:
            return None
        number = _int(value) if present else None
        if number is None:
            return False
        return number > bound if op == "Gt" else number < bound
    return None


def field_matches(req: Requirement, node_name: str) -> bool | None:
    """matchFields supports metadata.name with In or NotIn and exactly one value."""
    if req.operator not in ("In", "NotIn") or len(req.values) != 1:
        return None
    equal = req.key == "metadata.name" and node_name == req.values[0]
    return equal if req.operator == "In" else not equal


def term_matches(
    term: core_pb2.NodeSelectorTerm, labels: Mapping[str, str], node_name: str
) -> bool:
    """All of a term's requirements hold for the node with these labels and name; an empty or
    malformed term matches no node."""
    if not term.match_expressions and not term.match_fields:
        return False
    results = [requirement_matches(r, labels) for r in term.match_expressions]
    results += [field_matches(r, node_name) for r in term.match_fields]
    return all(r is True for r in results)


def required_matches(pod: core_pb2.Pod, node: core_pb2.Node) -> bool:
    """spec.nodeSelector (every label equal) and, if set, any one required node selector term."""
    return required_matches_labels(pod, node.metadata.labels, node.metadata.name)


def required_matches_labels(pod: core_pb2.Pod, labels: Mapping[str, str], node_name: str) -> bool:
    """required_matches for the node with these labels and name (a NodeInfo's, read out of the
    Node once)."""
    if any(labels.get(k) != v for k, v in pod.spec.node_selector.items()):
        return False
    affinity = pod.spec.affinity.node_affinity
    if not affinity.HasField("required_during_scheduling_ignored_during_execution"):
        return True
    terms = affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    return any(term_matches(t, labels, node_name) for t in terms)


@dataclass(frozen=True)
class RequiredNodeAffinity:
    """The pod's nodeSelector and required terms (None: no required affinity), as Kubernetes'
    PreFilter compiles them once per attempt (nodeaffinity.GetRequiredNodeAffinity)."""

    node_selector: dict[str, str]
    terms: tuple[tuple[tuple[_Requirement, ...], tuple[_Requirement, ...]], ...] | None

    @classmethod
    def of(cls, pod: core_pb2.Pod) -> RequiredNodeAffinity:
        affinity = pod.spec.affinity.node_affinity
        terms = None
        if affinity.HasField("required_during_scheduling_ignored_during_execution"):
            required = affinity.required_during_scheduling_ignored_during_execution
            terms = tuple(
                (
                    tuple(
                        _Requirement(r.key, r.operator, tuple(r.values))
                        for r in t.match_expressions
                    ),
                    tuple(_Requirement(r.key, r.operator, tuple(r.values)) for r in t.match_fields),
                )
                for t in required.node_selector_terms
            )
        return cls(dict(pod.spec.node_selector), terms)

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
                term &= np.fromiter(
                    (field_matches(r, n.name) is True for n in table.nodes), np.bool_, size
                )
            any_term |= term
        return rows & any_term


_REJECTED = Status.unresolvable(ERR_REASON_POD).with_plugin(NAME)


class _PreferredTerms(list[tuple[int, core_pb2.NodeSelectorTerm]]):
    """The pod's preferred terms with a weight, as (weight, term), kept by PreScore for Score."""


class NodeAffinity:
    name = NAME

    def pre_filter(self, state: CycleState, pod: core_pb2.Pod) -> Status:
        """Skip: the pod has neither a nodeSelector nor required node affinity, so Filter has
        nothing to check (as Kubernetes' PreFilter)."""
        if pod.spec.node_selector or pod.spec.affinity.node_affinity.HasField(
            "required_during_scheduling_ignored_during_execution"
        ):
            state.write(_PRE_FILTER_KEY, RequiredNodeAffinity.of(pod))
            return SUCCESS
        return Status.skip()

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

    def pre_score(self, state: CycleState, pod: core_pb2.Pod, nodes: list[NodeInfo]) -> Status:
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


def new(args: PluginArgs) -> NodeAffinity:
    return NodeAffinity()
