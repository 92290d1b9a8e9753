"""RuntimeClass rules in Kubernetes' words: the handler a DNS label and fixed once made, the
overhead's quantities checked as a container's limits, the scheduling's node selector as labels
and its tolerations as a pod's."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.validation import node
from apiserver.validation.fields import LABEL_MSG
from podplane.api.node.v1 import node_pb2
from podplane.apimachinery import manifest


def rc(handler: str = "runc", **fields: Any) -> node_pb2.RuntimeClass:
    obj = manifest.from_dict(
        {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": "sandboxed"},
            "handler": handler,
            **fields,
        }
    )
    assert isinstance(obj, node_pb2.RuntimeClass)
    return obj


def toleration(**fields: Any) -> dict[str, Any]:
    return {"scheduling": {"tolerations": [fields]}}


@pytest.mark.parametrize(
    "obj, want",
    [
        (rc(), []),
        (
            rc(
                "kata-qemu",
                overhead={"podFixed": {"cpu": "250m", "memory": "120Mi"}},
                scheduling={
                    "nodeSelector": {"runtime": "kata"},
                    "tolerations": [{"key": "kata", "operator": "Exists", "effect": "NoSchedule"}],
                },
            ),
            [],
        ),
        (rc(""), [f'handler: Invalid value: "": {LABEL_MSG}']),
        (rc("Kata.QEMU"), [f'handler: Invalid value: "Kata.QEMU": {LABEL_MSG}']),
        (
            rc(overhead={"podFixed": {"cpu": "-1"}}),
            ['overhead.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0'],
        ),
        (
            rc(overhead={"podFixed": {"pods": "1"}}),
            [
                'overhead.limits[pods]: Invalid value: "pods": must be a standard resource for '
                "containers"
            ],
        ),
        (
            rc(overhead={"podFixed": {"gpu": "1"}}),
            [
                'overhead.limits[gpu]: Invalid value: "gpu": must be a standard resource type or '
                "fully qualified"
            ],
        ),
        (
            rc(overhead={"podFixed": {"example.com/dongle": "500m"}}),
            ['overhead.limits[example.com/dongle]: Invalid value: "500m": must be an integer'],
        ),
        (rc(overhead={"podFixed": {"example.com/dongle": "2"}}), []),
        (
            rc(overhead={"podFixed": {"hugepages-2Mi": "4Mi"}}),
            ["overhead: Forbidden: HugePages require cpu or memory"],
        ),
        (
            rc(scheduling={"nodeSelector": {"bad key!": "v"}}),
            [
                'scheduling.nodeSelector: Invalid value: "bad key!": name part must consist of '
                "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            ],
        ),
        (
            rc(**toleration(operator="Equal", value="x")),
            [
                'scheduling.tolerations[0].operator: Invalid value: "Equal": operator must be '
                'Exists when `key` is empty, which means "match all values and all keys"'
            ],
        ),
        (
            rc(**toleration(key="k", operator="Exists", value="v")),
            [
                'scheduling.tolerations[0].operator: Invalid value: "v": value must be empty '
                "when `operator` is 'Exists'"
            ],
        ),
        (
            rc(**toleration(key="k", operator="Near")),
            [
                'scheduling.tolerations[0].operator: Unsupported value: "Near": supported '
                'values: "Equal", "Exists"'
            ],
        ),
        (
            rc(**toleration(key="k", effect="NoSchedule", tolerationSeconds=30)),
            [
                'scheduling.tolerations[0].effect: Invalid value: "NoSchedule": effect must be '
                "'NoExecute' when `tolerationSeconds` is set"
            ],
        ),
        (
            rc(**toleration(key="k", effect="Sometimes")),
            [
                'scheduling.tolerations[0].effect: Unsupported value: "Sometimes": supported '
                'values: "NoSchedule", "PreferNoSchedule", "NoExecute"'
            ],
        ),
        (rc(**toleration(key="k", effect="NoExecute", tolerationSeconds=30)), []),
    ],
)
def test_create(obj: node_pb2.RuntimeClass, want: list[str]) -> None:
    assert [str(e) for e in node.runtime_class(obj)] == want


def test_the_handler_is_fixed_once_made_and_the_rest_may_change() -> None:
    old = rc("runc")
    assert node.runtime_class_update(rc("runc", overhead={"podFixed": {"cpu": "1"}}), old) == []
    assert [str(e) for e in node.runtime_class_update(rc("kata"), old)] == [
        'handler: Invalid value: "kata": field is immutable'
    ]
    # An update is checked as a whole, as a create is.
    assert [str(e) for e in node.runtime_class_update(rc("Bad"), rc("Bad"))] == [
        f'handler: Invalid value: "Bad": {LABEL_MSG}'
    ]
