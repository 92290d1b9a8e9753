"""When the kubelet posts its Node's status (kubelet tryUpdateNodeStatus): every period it works the
status out against the Node as stored, and writes it only when it changed (a condition, the
images) or when the report frequency has passed; a Node the node lifecycle controller marked
Unknown is set right at the next period."""

from __future__ import annotations

import grpc

from kubelet.node.pressure import NodeStats
from kubelet.node.status import NodeStatusReporter
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.node.machine import IDENTITY, MACHINE


class FakeNodes:
    """Create/Get/UpdateStatus of one Node; counts the writes."""

    def __init__(self) -> None:
        self.node: core_pb2.Node | None = None
        self.writes = 0
        self.read_versions: list[str] = []

    def _copy(self) -> core_pb2.Node:
        assert self.node is not None
        node = core_pb2.Node()
        node.CopyFrom(self.node)
        return node

    async def create(self, node: core_pb2.Node) -> core_pb2.Node:
        self.node, self.writes = node, self.writes + 1
        return self._copy()

    async def get(
        self, name: str, namespace: str = "", resource_version: str = ""
    ) -> core_pb2.Node:
        self.read_versions.append(resource_version)
        if self.node is None:
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(), grpc.aio.Metadata()
            )
        return self._copy()

    async def update_status(self, node: core_pb2.Node) -> core_pb2.Node:
        self.node, self.writes = node, self.writes + 1
        return self._copy()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reporter(nodes: FakeNodes, clock: Clock, not_ready: list[str | None]) -> NodeStatusReporter:
    return NodeStatusReporter(
        nodes,  # type: ignore[arg-type]
        IDENTITY,
        MACHINE,
        "containerd://1.7.24",
        readiness=lambda: not_ready[0],
        stats=NodeStats,
        report_frequency=300,
        clock=clock,
    )


def ready(nodes: FakeNodes) -> str:
    assert nodes.node is not None
    return next(c.status for c in nodes.node.status.conditions if c.type == "Ready")


async def test_an_unchanged_status_is_posted_only_every_report_frequency() -> None:
    nodes, clock = FakeNodes(), Clock()
    r = reporter(nodes, clock, [None])
    await r.register()
    assert nodes.writes == 2  # the Node, then its status
    for _ in range(29):
        clock.now += 10
        await r.update_status()
    assert nodes.writes == 2
    clock.now += 10  # 300 s since the last post
    await r.update_status()
    assert nodes.writes == 3
    # Each period's read is the apiserver's cached copy, never a read of etcd.
    assert nodes.read_versions == ["0"] * 31  # register's status post, then 30 periods


async def test_a_changed_condition_is_posted_at_the_next_period() -> None:
    nodes, clock = FakeNodes(), Clock()
    not_ready: list[str | None] = [None]
    r = reporter(nodes, clock, not_ready)
    await r.register()
    not_ready[0] = "PLEG is not healthy"
    clock.now += 10
    await r.update_status()
    assert (nodes.writes, ready(nodes)) == (3, "False")
    clock.now += 10
    await r.update_status()
    assert nodes.writes == 3


async def test_a_node_marked_unknown_by_the_controller_is_set_right_at_the_next_period() -> None:
    nodes, clock = FakeNodes(), Clock()
    r = reporter(nodes, clock, [None])
    await r.register()
    assert nodes.node is not None
    for c in nodes.node.status.conditions:
        if c.type == "Ready":
            c.status = "Unknown"
    clock.now += 10
    await r.update_status()
    assert (nodes.writes, ready(nodes)) == (3, "True")
