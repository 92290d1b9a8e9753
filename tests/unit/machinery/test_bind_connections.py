"""podplane.client.clientset.BindConnections: binds go over connections of their own, taken in turn,
each answered as Client.bind's; an in-process gRPC server tells the connections apart by peer."""

from __future__ import annotations

from collections import Counter
from typing import Any

import grpc
import pytest

from podplane.api.core.v1 import services_pb2_grpc
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import BindConnections, Client


class RecordingPods(services_pb2_grpc.PodsServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.peers: list[str] = []
        self.bound: list[tuple[str, str, str, str]] = []

    async def Bind(self, request: Any, context: grpc.aio.ServicerContext) -> meta_pb2.Status:
        self.peers.append(context.peer())
        meta = request.metadata
        self.bound.append((meta.namespace, meta.name, meta.uid, request.target.name))
        return meta_pb2.Status(status="Success", code=201)


async def test_binds_take_the_connections_in_turn() -> None:
    server = grpc.aio.server()
    pods = RecordingPods()
    services_pb2_grpc.add_PodsServicer_to_server(pods, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with Client(f"127.0.0.1:{port}", timeout=10) as client:
            binds = BindConnections(client, 3)
            try:
                for i in range(6):
                    await binds.bind("ns", f"p{i}", f"node-{i}", uid=f"u{i}")
            finally:
                await binds.close()
            await client.bind("ns", "q", "node-q")  # the client's own connection
    finally:
        await server.stop(0)
    assert pods.bound[:6] == [("ns", f"p{i}", f"u{i}", f"node-{i}") for i in range(6)]
    # Three connections (distinct client ports), each taken twice, in turn.
    assert Counter(pods.peers[:6]) == Counter({peer: 2 for peer in pods.peers[:3]})
    assert len(set(pods.peers[:3])) == 3 and pods.peers[3:6] == pods.peers[:3]
    assert pods.peers[6] not in pods.peers[:6]


async def test_at_least_one_connection() -> None:
    async with Client("127.0.0.1:1") as client:
        with pytest.raises(ValueError, match="count"):
            BindConnections(client, 0)
