"""Readiness gates: a pod whose containers are ready is Ready only when each gate's condition,
which someone else sets in its status, is True; until then ContainersReady is True and Ready is
False with ReadinessGatesNotReady and Kubernetes' messages. The kubelet keeps the conditions
others set: a write over a pod someone changed meanwhile takes their conditions as they are now
and evaluates Ready again."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from kubelet.status.conditions import pod_ready
from kubelet.status.manager import StatusManager
from podplane.api.core.v1 import core_pb2
from tests.unit.controller.fake_api import rpc_error
from tests.unit.kubelet.podbuild import pod
from tests.unit.kubelet.synctest import FakePods, SyncHarness, condition

GATES = [core_pb2.PodReadinessGate(condition_type=t) for t in ("example.com/lb", "example.com/db")]
TRUE = core_pb2.PodCondition(type="ContainersReady", status="True")


def gate(type_: str, status: str) -> core_pb2.PodCondition:
    return core_pb2.PodCondition(type=type_, status=status)


@pytest.mark.parametrize(
    ("conditions", "status", "reason", "message"),
    [
        (
            [],
            "False",
            "ReadinessGatesNotReady",
            'corresponding condition of pod readiness gate "example.com/lb" does not exist., '
            'corresponding condition of pod readiness gate "example.com/db" does not exist.',
        ),
        (
            [gate("example.com/lb", "True"), gate("example.com/db", "False")],
            "False",
            "ReadinessGatesNotReady",
            'the status of pod readiness gate "example.com/db" is not "True", but False',
        ),
        ([gate("example.com/lb", "True"), gate("example.com/db", "True")], "True", "", ""),
    ],
    ids=["missing", "false", "all-true"],
)
def test_ready_with_gates(
    conditions: list[core_pb2.PodCondition], status: str, reason: str, message: str
) -> None:
    ready = pod_ready(TRUE, GATES, conditions)
    assert (ready.status, ready.reason, ready.message) == (status, reason, message)


def test_unready_containers_say_so_whatever_the_gates() -> None:
    containers = core_pb2.PodCondition(
        type="ContainersReady",
        status="False",
        reason="ContainersNotReady",
        message="containers with unready status: [a]",
    )
    ready = pod_ready(containers, GATES, [gate("example.com/lb", "True")])
    assert (ready.reason, ready.message) == (
        "ContainersNotReady",
        "containers with unready status: [a]",
    )


async def test_a_pod_is_ready_once_its_gate_is_true(tmp_path: Path) -> None:
    h = SyncHarness(tmp_path)
    p = pod("a", readiness_gates=GATES[:1])
    await h.sync(p)
    await h.sync(p)
    assert condition(p, "ContainersReady") == "True" and condition(p, "Ready") == "False"
    [ready] = [c for c in p.status.conditions if c.type == "Ready"]
    assert ready.reason == "ReadinessGatesNotReady"
    # A controller sets the gate's condition; the kubelet keeps it and Ready follows.
    p.status.conditions.append(gate("example.com/lb", "True"))
    p.metadata.resource_version = str(int(p.metadata.resource_version) + 1)
    await h.sync(p)
    assert condition(p, "Ready") == "True" and condition(p, "example.com/lb") == "True"


class ConflictingPods(FakePods):
    """The apiserver: someone else sets the gate's condition after the kubelet read the pod, so
    the kubelet's next conditional write conflicts."""

    def __init__(self, stored: core_pb2.Pod) -> None:
        super().__init__()
        self.stored = stored
        self.conflicts = 0

    async def update_status(self, pod: core_pb2.Pod) -> core_pb2.Pod:
        if pod.metadata.resource_version != self.stored.metadata.resource_version:
            self.conflicts += 1
            raise rpc_error(grpc.StatusCode.ABORTED, "the object has been modified")
        written = await super().update_status(pod)
        self.stored.CopyFrom(written)
        return written

    async def get(self, name: str, namespace: str = "") -> core_pb2.Pod:
        return self.stored


async def test_a_write_that_conflicts_keeps_the_others_conditions() -> None:
    p = pod("a", readiness_gates=GATES[:1])
    p.status.conditions.extend([gate("PodScheduled", "True")])
    stored = core_pb2.Pod()
    stored.CopyFrom(p)
    # Meanwhile the load balancer controller says yes.
    stored.status.conditions.append(gate("example.com/lb", "True"))
    stored.metadata.resource_version = "7"
    pods = ConflictingPods(stored)
    manager = StatusManager(pods)  # type: ignore[arg-type]
    status = core_pb2.PodStatus(phase="Running")
    status.conditions.extend([TRUE, pod_ready(TRUE, GATES[:1], []), gate("PodScheduled", "True")])
    assert await manager.set_status(p, status)
    assert pods.conflicts == 1
    written = pods.written[-1].status
    assert {c.type: c.status for c in written.conditions} == {
        "ContainersReady": "True",
        "Ready": "True",
        "PodScheduled": "True",
        "example.com/lb": "True",
    }
