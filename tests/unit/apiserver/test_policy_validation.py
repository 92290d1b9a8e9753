"""PodDisruptionBudget validation tables: each bad field of a budget's spec or status yields the
error Kubernetes 1.31 gives, naming its path; the budgets users write pass, and every spec field
may change in an update."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apiserver.validation import policy
from apiserver.validation.fields import FieldError
from podplane.api.policy.v1 import policy_pb2
from podplane.apimachinery import manifest

PERCENT_ERR = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)


def pdb_doc(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
    }


def decoded(doc: dict[str, Any]) -> policy_pb2.PodDisruptionBudget:
    obj = manifest.from_dict(doc)
    assert isinstance(obj, policy_pb2.PodDisruptionBudget)
    return obj


def strings(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


@pytest.mark.parametrize(
    "spec",
    [
        {"minAvailable": 2},
        {"minAvailable": 0},
        {"minAvailable": "50%"},
        {"minAvailable": "100%"},
        {"maxUnavailable": 1},
        {"maxUnavailable": "0%"},
        {"maxUnavailable": "25%", "unhealthyPodEvictionPolicy": "AlwaysAllow"},
        {"minAvailable": 1, "unhealthyPodEvictionPolicy": "IfHealthyBudget"},
        {},  # neither: policy/v1 has no default
    ],
)
def test_budgets_users_write_are_valid(spec: dict[str, Any]) -> None:
    assert strings(policy.pod_disruption_budget(decoded(pdb_doc(**spec)))) == []


def test_an_empty_or_missing_selector_is_valid() -> None:
    doc = pdb_doc(minAvailable=1)
    doc["spec"]["selector"] = {}
    assert strings(policy.pod_disruption_budget(decoded(doc))) == []
    del doc["spec"]["selector"]
    assert strings(policy.pod_disruption_budget(decoded(doc))) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"minAvailable": -1},
            ["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"maxUnavailable": -3},
            ["spec.maxUnavailable: Invalid value: -3: must be greater than or equal to 0"],
        ),
        (
            {"minAvailable": "half"},
            [
                "spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, "
                f'StrVal:"half"}}: {PERCENT_ERR}'
            ],
        ),
        (
            {"maxUnavailable": "150%"},
            [
                "spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, "
                'StrVal:"150%"}: must not be greater than 100%'
            ],
        ),
        (
            {"minAvailable": "-5%"},
            [
                "spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, "
                f'StrVal:"-5%"}}: {PERCENT_ERR}'
            ],
        ),
        (
            {"unhealthyPodEvictionPolicy": "Never"},
            [
                'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported '
                'values: "AlwaysAllow", "IfHealthyBudget"'
            ],
        ),
    ],
)
def test_bad_specs_name_the_field(spec: dict[str, Any], expected: list[str]) -> None:
    assert strings(policy.pod_disruption_budget(decoded(pdb_doc(**spec)))) == expected


def test_min_available_and_max_unavailable_cannot_both_be_set() -> None:
    errs = strings(policy.pod_disruption_budget(decoded(pdb_doc(minAvailable=1, maxUnavailable=1))))
    assert len(errs) == 1
    assert errs[0].startswith("spec: Invalid value: {")
    assert errs[0].endswith(": minAvailable and maxUnavailable cannot be both set")


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (
            {"matchExpressions": [{"key": "app", "operator": "In"}]},
            "spec.selector.matchExpressions[0].values: Required value: must be specified "
            "when `operator` is 'In' or 'NotIn'",
        ),
        (
            {"matchExpressions": [{"key": "app", "operator": "Near", "values": ["a"]}]},
            'spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid '
            "selector operator",
        ),
        (
            {"matchExpressions": [{"key": "app", "operator": "In", "values": ["no spaces"]}]},
            'spec.selector.matchExpressions[0].values[0]: Invalid value: "no spaces": '
            "a valid label must be an empty string",
        ),
        ({"matchLabels": {"app": "a b"}}, 'spec.selector.matchLabels: Invalid value: "a b"'),
    ],
)
def test_bad_selectors_name_the_field(selector: dict[str, Any], expected: str) -> None:
    doc = pdb_doc(minAvailable=1)
    doc["spec"]["selector"] = selector
    errs = strings(policy.pod_disruption_budget(decoded(doc)))
    assert any(e.startswith(expected) for e in errs), errs


def test_an_update_may_keep_invalid_selector_values_the_stored_budget_had() -> None:
    doc = pdb_doc(minAvailable=1)
    doc["spec"]["selector"] = {
        "matchExpressions": [{"key": "app", "operator": "In", "values": ["a b"]}]
    }
    old = decoded(doc)
    new = decoded(copy.deepcopy(doc))
    new.spec.min_available = "2"
    assert strings(policy.pod_disruption_budget_update(new, old)) == []
    assert strings(policy.pod_disruption_budget_update(new, decoded(pdb_doc(minAvailable=1))))


def test_every_spec_field_may_change() -> None:
    old = decoded(pdb_doc(minAvailable=1))
    new = decoded(pdb_doc(maxUnavailable="30%", unhealthyPodEvictionPolicy="AlwaysAllow"))
    new.spec.selector.match_labels["tier"] = "front"
    assert strings(policy.pod_disruption_budget_update(new, old)) == []


def with_status(**status: Any) -> policy_pb2.PodDisruptionBudget:
    doc = pdb_doc(minAvailable=1)
    doc["status"] = status
    return decoded(doc)


CONDITION = {
    "type": "DisruptionAllowed",
    "status": "True",
    "reason": "SufficientPods",
    "message": "",
    "lastTransitionTime": "2026-11-21T15:00:00Z",
    "observedGeneration": 1,
}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            {"disruptionsAllowed": -1},
            ["status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"currentHealthy": -1, "expectedPods": -2},
            [
                "status.currentHealthy: Invalid value: -1: must be greater than or equal to 0",
                "status.expectedPods: Invalid value: -2: must be greater than or equal to 0",
            ],
        ),
        (
            {"conditions": [{**CONDITION, "status": "Maybe"}]},
            [
                'status.conditions[0].status: Unsupported value: "Maybe": supported values: '
                '"False", "True", "Unknown"'
            ],
        ),
        (
            {"conditions": [{**CONDITION, "reason": ""}]},
            ["status.conditions[0].reason: Required value: must be set"],
        ),
        (
            {"conditions": [{**CONDITION, "lastTransitionTime": None}]},
            ["status.conditions[0].lastTransitionTime: Required value: must be set"],
        ),
        (
            {"conditions": [CONDITION, CONDITION]},
            ['status.conditions[1].type: Duplicate value: "DisruptionAllowed"'],
        ),
        (
            {"conditions": [{**CONDITION, "reason": "not valid"}]},
            [
                'status.conditions[0].reason: Invalid value: "not valid": a condition reason '
                "must start with alphabetic character, optionally followed by a string of "
                "alphanumeric characters or '_,:', and must end with an alphanumeric character "
                "or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  "
                "or 'ReasonA:ReasonB', regex used for validation is "
                "'[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')"
            ],
        ),
    ],
)
def test_bad_status_names_the_field(status: dict[str, Any], expected: list[str]) -> None:
    old = with_status()
    assert strings(policy.pod_disruption_budget_update(with_status(**status), old)) == expected


def test_the_controllers_status_is_valid() -> None:
    status = {
        "observedGeneration": 1,
        "disruptionsAllowed": 1,
        "currentHealthy": 3,
        "desiredHealthy": 2,
        "expectedPods": 3,
        "disruptedPods": {"web-1": "2026-11-21T15:00:00Z"},
        "conditions": [CONDITION],
    }
    assert strings(policy.pod_disruption_budget_update(with_status(**status), with_status())) == []
