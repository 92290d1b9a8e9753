"""NodeUnschedulable, NodeName and NodeReady: which nodes each lets a pod onto, and why not."""

from __future__ import annotations

import pytest

from podplane.api.core.v1 import core_pb2
from scheduler.framework.status import Code
from scheduler.framework.types import CycleState
from scheduler.plugins import nodename, nodeready, nodeunschedulable
from tests.unit.scheduler.schedtest import node, node_info, pod

UNSCHEDULABLE_TOLERATION = {
    "key": "node.kubernetes.io/unschedulable",
    "operator": "Exists",
    "effect": "NoSchedule",
}


@pytest.mark.parametrize(
    "the_pod, the_node, reasons",
    [
        (pod(), node(), ()),
        (pod(), node(unschedulable=True), ("node(s) were unschedulable",)),
        (pod(tolerations=[UNSCHEDULABLE_TOLERATION]), node(unschedulable=True), ()),
        (pod(tolerations=[{"operator": "Exists"}]), node(unschedulable=True), ()),
        (
            pod(
                tolerations=[
                    {
                        "key": "node.kubernetes.io/unschedulable",
                        "operator": "Exists",
                        "effect": "NoExecute",
                    }
                ]
            ),
            node(unschedulable=True),
            ("node(s) were unschedulable",),
        ),
    ],
    ids=["schedulable", "cordoned", "tolerates-the-taint", "tolerates-everything", "wrong-effect"],
)
def test_node_unschedulable(
    the_pod: core_pb2.Pod, the_node: core_pb2.Node, reasons: tuple[str, ...]
) -> None:
    status = nodeunschedulable.new({}).filter(CycleState(), the_pod, node_info(the_node))
    assert status.reasons == reasons
    assert status.is_success == (not reasons)
    if reasons:
        assert status.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE


@pytest.mark.parametrize(
    "wanted, node_name, fits",
    [
        ("", "node-1", True),
        ("node-1", "node-1", True),
        ("node-2", "node-1", False),
    ],
)
def test_node_name(wanted: str, node_name: str, fits: bool) -> None:
    status = nodename.new({}).filter(
        CycleState(), pod(node_name=wanted), node_info(node(node_name))
    )
    assert status.is_success == fits
    if not fits:
        assert status.reasons == ("node(s) didn't match the requested node name",)


NOT_READY_TOLERATION = {
    "key": "node.kubernetes.io/not-ready",
    "operator": "Exists",
    "effect": "NoSchedule",
}


@pytest.mark.parametrize(
    "ready, tolerations, fits",
    [
        ("True", [], True),
        ("False", [], False),
        ("Unknown", [], False),
        (None, [], False),
        ("False", [NOT_READY_TOLERATION], True),
        # The default NoExecute toleration every pod gets does not let it onto a not-ready node.
        (
            "False",
            [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}],
            False,
        ),
    ],
    ids=["ready", "not-ready", "unknown", "no-condition", "tolerated", "noexecute-toleration"],
)
def test_node_ready(ready: str | None, tolerations: list[dict[str, str]], fits: bool) -> None:
    status = nodeready.new({}).filter(
        CycleState(), pod(tolerations=tolerations), node_info(node(ready=ready))
    )
    assert status.is_success == fits
    if not fits:
        assert status.reasons == ("node(s) were not ready",)
