"""PriorityClass rules in Kubernetes' words: user classes up to 1000000000, the `system-` names
reserved for the system classes with their very values, preemptionPolicy PreemptLowerPriority or
Never and defaulted to the first, value and preemptionPolicy fixed once made; and the system
classes the server keeps."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import scheduling as defaulting
from apiserver.registry.generic import deletion
from apiserver.registry.strategies.scheduling import STRATEGIES
from apiserver.validation import scheduling
from podplane.api.scheduling.v1 import scheduling_pb2
from podplane.apimachinery import manifest, priority, resources

STRATEGY = STRATEGIES[0]


def pc(name: str = "high", **fields: Any) -> scheduling_pb2.PriorityClass:
    obj = manifest.from_dict(
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            **fields,
        }
    )
    assert isinstance(obj, scheduling_pb2.PriorityClass)
    return obj


def messages(obj: scheduling_pb2.PriorityClass) -> list[str]:
    return [str(e) for e in scheduling.priority_class(obj)]


@pytest.mark.parametrize(
    "obj, want",
    [
        (pc(value=1000), []),
        (pc(value=-5, preemptionPolicy="Never", description="low"), []),
        (pc(value=priority.HIGHEST_USER_DEFINABLE_PRIORITY), []),
        (
            pc(value=priority.HIGHEST_USER_DEFINABLE_PRIORITY + 1),
            ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"],
        ),
        (
            pc(value=1, preemptionPolicy="Sometimes"),
            [
                'preemptionPolicy: Unsupported value: "Sometimes": supported values: '
                '"PreemptLowerPriority", "Never"'
            ],
        ),
        (pc(value=1, preemptionPolicy=""), ["preemptionPolicy: Required value"]),
        (pc("system-node-critical", value=2000001000), []),
        (pc("system-cluster-critical", value=2000000000), []),
        (
            pc("system-mine", value=10),
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are "
                "reserved for system use only. error: system-mine is not a known system "
                "priority class"
            ],
        ),
        (
            pc("system-node-critical", value=5),
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are "
                "reserved for system use only. error: value of system-node-critical "
                "PriorityClass must be 2000001000"
            ],
        ),
        (
            pc("system-cluster-critical", value=2000000000, globalDefault=True),
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are "
                "reserved for system use only. error: globalDefault of system-cluster-critical "
                "PriorityClass must be false"
            ],
        ),
        (
            pc("Not_A_Name", value=1),
            [
                'metadata.name: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain '
                "must consist of lower case alphanumeric characters, '-' or '.', and must start "
                "and end with an alphanumeric character (e.g. 'example.com', regex used for "
                "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            ],
        ),
    ],
    ids=lambda v: None if isinstance(v, list) else v.metadata.name + f"={v.value}",
)
def test_create(obj: scheduling_pb2.PriorityClass, want: list[str]) -> None:
    assert messages(obj) == want


def test_a_class_preempts_lower_priority_pods_unless_it_says_never() -> None:
    plain = pc(value=1)
    defaulting.priority_class(plain)
    assert plain.preemption_policy == "PreemptLowerPriority"
    never = pc(value=1, preemptionPolicy="Never")
    defaulting.priority_class(never)
    assert never.preemption_policy == "Never"


@pytest.mark.parametrize(
    "old, new, want",
    [
        (pc(value=10), pc(value=10, description="now described", globalDefault=True), []),
        (
            pc(value=10),
            pc(value=11),
            ["value: Forbidden: may not be changed in an update."],
        ),
        (
            pc(value=10, preemptionPolicy="Never"),
            pc(value=10, preemptionPolicy="PreemptLowerPriority"),
            ['preemptionPolicy: Invalid value: "PreemptLowerPriority": field is immutable'],
        ),
        # Left out, the policy is defaulted as on create: PreemptLowerPriority, unchanged.
        (pc(value=10, preemptionPolicy="PreemptLowerPriority"), pc(value=10), []),
        (
            pc(value=10, preemptionPolicy="Never"),
            pc(value=10),
            ['preemptionPolicy: Invalid value: "PreemptLowerPriority": field is immutable'],
        ),
        # The system classes' value is as fixed as any other's.
        (
            pc("system-node-critical", value=2000001000),
            pc("system-node-critical", value=1),
            ["value: Forbidden: may not be changed in an update."],
        ),
    ],
)
def test_update(
    old: scheduling_pb2.PriorityClass, new: scheduling_pb2.PriorityClass, want: list[str]
) -> None:
    defaulting.priority_class(old)
    assert [str(e) for e in STRATEGY.validate_update(new, old)] == want


def test_the_system_classes_are_valid_and_no_default() -> None:
    classes = {c.metadata.name: c for c in priority.system_priority_classes()}
    assert {n: c.value for n, c in classes.items()} == {
        "system-node-critical": 2000001000,
        "system-cluster-critical": 2000000000,
    }
    for c in classes.values():
        assert not c.global_default
        assert messages(c) == []


@pytest.mark.parametrize(
    "resource, name, refusal",
    [
        (
            resources.PRIORITY_CLASS,
            "system-node-critical",
            "this is a system priority class and cannot be deleted",
        ),
        (
            resources.PRIORITY_CLASS,
            "system-cluster-critical",
            "this is a system priority class and cannot be deleted",
        ),
        (resources.PRIORITY_CLASS, "high", None),
        (resources.NAMESPACE, "system-node-critical", None),
        (resources.NAMESPACE, "kube-system", "this namespace may not be deleted"),
    ],
)
def test_the_server_keeps_the_system_classes(
    resource: resources.Resource, name: str, refusal: str | None
) -> None:
    assert deletion.undeletable(resource, name) == refusal
