"""The STATUS and ROLES cells of the nodes table (printNode, findNodeRoles)."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.printers.nodes import node_roles, node_status
from tests.unit.machinery.printers.samples import obj


def node(
    conditions: list[dict[str, str]],
    unschedulable: bool = False,
    labels: dict[str, str] | None = None,
) -> Any:
    return obj(
        core_pb2.Node,
        {
            "metadata": {"name": "n1", "labels": labels or {}},
            "spec": {"unschedulable": unschedulable},
            "status": {"conditions": conditions},
        },
    )


READY = {"type": "Ready", "status": "True"}
NOT_READY = {"type": "Ready", "status": "False"}
UNKNOWN = {"type": "Ready", "status": "Unknown"}
PRESSURE = {"type": "MemoryPressure", "status": "True"}


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (node([READY]), "Ready"),
        (node([NOT_READY]), "NotReady"),
        (node([UNKNOWN]), "NotReady"),
        (node([]), "Unknown"),
        (node([PRESSURE]), "Unknown"),
        (node([PRESSURE, READY]), "Ready"),
        (node([READY], unschedulable=True), "Ready,SchedulingDisabled"),
        (node([], unschedulable=True), "Unknown,SchedulingDisabled"),
    ],
    ids=[
        "ready",
        "not ready",
        "unknown condition",
        "no conditions",
        "no Ready condition",
        "ready with pressure",
        "cordoned",
        "cordoned and unknown",
    ],
)
def test_node_status(n: Any, expected: str) -> None:
    assert node_status(n) == expected


def test_roles_come_from_role_labels_sorted() -> None:
    n = node(
        [READY],
        labels={
            "node-role.kubernetes.io/worker": "",
            "node-role.kubernetes.io/control-plane": "",
            "kubernetes.io/role": "edge",
            "zone": "a",
        },
    )
    assert node_roles(n) == ["control-plane", "edge", "worker"]
