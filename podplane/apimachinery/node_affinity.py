"""Whether a node meets a pod's spec.nodeSelector and required node affinity (kubernetes
component-helpers/scheduling/corev1/nodeaffinity): the scheduler's NodeAffinity filter and the
DaemonSet controller's choice of nodes judge a node alike."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from podplane.api.core.v1 import core_pb2

_INTEGER = re.compile(r"[+-]?[0-9]+")
# The one field a matchFields requirement may name (metav1.ObjectNameField).
OBJECT_NAME_FIELD = "metadata.name"


def _int(value: str) -> int | None:
    """A base-10 integer as Go's strconv.ParseInt reads it, or None."""
    return int(value) if _INTEGER.fullmatch(value) else None


class CopiedRequirement(NamedTuple):
    """A matchExpressions/matchFields entry copied out of the pod (what requirement_matches and
    field_matches read), so that matching a node reads no protobuf."""

    key: str
    operator: str
    values: tuple[str, ...]


# A requirement as the pod has it, or copied out of it.
Requirement = core_pb2.NodeSelectorRequirement | CopiedRequirement


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
    equal = req.key == OBJECT_NAME_FIELD and node_name == req.values[0]
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
