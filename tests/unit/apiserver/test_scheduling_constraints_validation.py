"""Affinity and topology spread constraints are validated as kube-apiserver does: each broken one
refused with its field path, valid ones accepted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from apiserver.errors import MAX_MESSAGE_BYTES, status_message
from apiserver.validation import fields
from apiserver.validation.affinity import scheduling_constraints
from podplane.api.core.v1 import core_pb2

NA = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
PA = "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"


def _node_term(spec: core_pb2.PodSpec, operator: str, values: list[str]) -> None:
    required = spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
    required.node_selector_terms.add().match_expressions.add(
        key="zone", operator=operator, values=values
    )


def _pod_term(spec: core_pb2.PodSpec, topology_key: str, operator: str = "In") -> None:
    term = spec.affinity.pod_affinity.required_during_scheduling_ignored_during_execution.add(
        topology_key=topology_key
    )
    term.label_selector.match_expressions.add(key="app", operator=operator, values=["web"])


def _empty_required(spec: core_pb2.PodSpec) -> None:
    spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.SetInParent()


def _preferred_weight(spec: core_pb2.PodSpec) -> None:
    spec.affinity.node_affinity.preferred_during_scheduling_ignored_during_execution.add(
        weight=0
    ).preference.match_expressions.add(key="zone", operator="Exists")


def _spread(spec: core_pb2.PodSpec, max_skew: int, key: str, when: str) -> None:
    spec.topology_spread_constraints.add(
        max_skew=max_skew, topology_key=key, when_unsatisfiable=when
    )


Build = Callable[[core_pb2.PodSpec], None]

INVALID: list[tuple[str, Build, str]] = [
    (
        "unknown node operator",
        lambda s: _node_term(s, "Near", ["a"]),
        f'{NA}.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: "Near"',
    ),
    (
        "In without values",
        lambda s: _node_term(s, "In", []),
        f"{NA}.nodeSelectorTerms[0].matchExpressions[0].values: Required value",
    ),
    (
        "Exists with values",
        lambda s: _node_term(s, "Exists", ["a"]),
        f"{NA}.nodeSelectorTerms[0].matchExpressions[0].values: Forbidden",
    ),
    (
        "Gt with two values",
        lambda s: _node_term(s, "Gt", ["1", "2"]),
        f"{NA}.nodeSelectorTerms[0].matchExpressions[0].values: Required value",
    ),
    ("no node selector terms", _empty_required, f"{NA}.nodeSelectorTerms: Required value"),
    (
        "weight 0",
        _preferred_weight,
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: "
        "Invalid value: 0: must be in the range 1-100",
    ),
    ("no topology key", lambda s: _pod_term(s, ""), f"{PA}.topologyKey: Required value"),
    (
        "Gt in a label selector",
        lambda s: _pod_term(s, "zone", "Gt"),
        f'{PA}.labelSelector.matchExpressions[0].operator: Unsupported value: "Gt"',
    ),
    (
        "maxSkew 0",
        lambda s: _spread(s, 0, "zone", "DoNotSchedule"),
        "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
    ),
    (
        "whenUnsatisfiable",
        lambda s: _spread(s, 1, "zone", "Sometimes"),
        'spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Sometimes"',
    ),
]


@pytest.mark.parametrize(
    ("build", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_each_broken_constraint_is_named(build: Build, expected: str) -> None:
    spec = core_pb2.PodSpec()
    build(spec)
    errs = [str(e) for e in scheduling_constraints(spec)]
    assert any(e.startswith(expected) for e in errs), errs


def test_valid_constraints_pass() -> None:
    spec = core_pb2.PodSpec()
    _node_term(spec, "In", ["a", "b"])
    _node_term(spec, "Lt", ["5"])
    _pod_term(spec, "kubernetes.io/hostname")
    _spread(spec, 1, "topology.kubernetes.io/zone", "ScheduleAnyway")
    assert scheduling_constraints(spec) == []


def test_a_huge_value_is_shown_truncated() -> None:
    shown = str(
        fields.invalid("metadata.name", "a" * 100_000, "must be no more than 253 characters")
    )
    assert len(shown) < 400 and "...(truncated)" in shown


def test_a_long_status_message_fits_in_grpc_trailers() -> None:
    message = "é" * 10_000  # two bytes each in UTF-8
    sent = status_message(message)
    assert len(sent.encode()) <= MAX_MESSAGE_BYTES + len("...(truncated)")
    assert sent.endswith("...(truncated)") and status_message("short") == "short"
