"""Readiness gates and scheduling gates (kubernetes pkg/apis/core/validation:
validateReadinessGates, validateSchedulingGates, validateOnlyDeletedSchedulingGates and the rules
for gated pods in ValidatePodUpdate). A scheduling gate is set at creation and only removed
afterwards; while a pod is gated, its node selector may grow and its required node affinity
narrow, as a queue controller tells it where to go before it lets it be scheduled."""

from __future__ import annotations

from collections.abc import Sequence

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import shown, shown_list
from podplane.api.core.v1 import core_pb2

_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"


def readiness_gates(path: str, gates: Sequence[core_pb2.PodReadinessGate]) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, gate in enumerate(gates):
        errs += fields.qualified_name(f"{path}[{i}].conditionType", gate.condition_type)
    return errs


def scheduling_gates(path: str, gates: Sequence[core_pb2.PodSchedulingGate]) -> list[FieldError]:
    """Qualified names, each once."""
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, gate in enumerate(gates):
        errs += fields.qualified_name(f"{path}[{i}]", gate.name)
        if gate.name in seen:
            errs.append(fields.duplicate(f"{path}[{i}]", gate.name))
        seen.add(gate.name)
    return errs


def only_deleted_scheduling_gates(
    path: str,
    new: Sequence[core_pb2.PodSchedulingGate],
    old: Sequence[core_pb2.PodSchedulingGate],
) -> list[FieldError]:
    """An update may remove gates, never add one."""
    before = {g.name for g in old}
    added: dict[str, int] = {}
    for i, gate in enumerate(new):
        added[gate.name] = i
    return [
        fields.forbidden(
            f"{path}[{i}].name", f"only deletion is allowed, but found new scheduling gate '{name}'"
        )
        for name, i in added.items()
        if name not in before
    ]


def node_selector_mutation(path: str, new: dict[str, str], old: dict[str, str]) -> list[FieldError]:
    """A gated pod's nodeSelector may only grow."""
    if any(new.get(key) != value for key, value in old.items()):
        return [
            fields.invalid(
                path,
                shown(new),
                "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
            )
        ]
    return []


def _only_additions(new: core_pb2.NodeSelectorTerm, old: core_pb2.NodeSelectorTerm) -> bool:
    if not old.match_expressions and not old.match_fields:
        if new.match_expressions or new.match_fields:
            return False
    for name in ("match_expressions", "match_fields"):
        before, after = list(getattr(old, name)), list(getattr(new, name))
        if before and after[: len(before)] != before:
            return False
    return True


def node_affinity_mutation(
    path: str, new: core_pb2.NodeAffinity | None, old: core_pb2.NodeAffinity | None
) -> list[FieldError]:
    """A gated pod's required node affinity may only narrow: its terms stay, each may gain
    requirements."""
    if old is None or not old.HasField("required_during_scheduling_ignored_during_execution"):
        return []
    old_terms = list(old.required_during_scheduling_ignored_during_execution.node_selector_terms)
    new_terms: list[core_pb2.NodeSelectorTerm] = []
    if new is not None and new.HasField("required_during_scheduling_ignored_during_execution"):
        new_terms = list(
            new.required_during_scheduling_ignored_during_execution.node_selector_terms
        )
    terms_path = f"{path}.{_REQUIRED}.nodeSelectorTerms"
    if old_terms and len(old_terms) != len(new_terms):
        return [
            fields.invalid(
                terms_path,
                shown_list(new_terms),
                "no additions/deletions to non-empty NodeSelectorTerms list are allowed",
            )
        ]
    return [
        fields.invalid(
            f"{terms_path}[{i}]",
            shown(new_terms[i]),
            "only additions are allowed (no mutations or deletions)",
        )
        for i in range(len(old_terms))
        if not _only_additions(new_terms[i], old_terms[i])
    ]
