"""podplane.componentbase.serving.Server with several acceptors (grpc.aio servers sharing one port):
every connection is served, and the port is still refused when something else listens on it, as a
lone server's is (SO_REUSEPORT would otherwise let two apiservers share a port without a word)."""

from __future__ import annotations

import asyncio
import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from podplane.componentbase.serving import Server


async def test_every_connection_to_several_acceptors_is_served() -> None:
    server = Server("127.0.0.1:0", acceptors=4)
    await server.start()
    await server.set_serving(True)
    # Connections of their own (the kernel spreads them over the acceptors' sockets).
    channels = [
        grpc.aio.insecure_channel(
            f"127.0.0.1:{server.port}", options=[("grpc.use_local_subchannel_pool", 1)]
        )
        for _ in range(24)
    ]
    try:
        replies = await asyncio.gather(
            *(
                health_pb2_grpc.HealthStub(c).Check(health_pb2.HealthCheckRequest(), timeout=10)
                for c in channels
            )
        )
        assert {r.status for r in replies} == {health_pb2.HealthCheckResponse.SERVING}
    finally:
        for c in channels:
            await c.close()
        await server.stop(0)


@pytest.mark.parametrize("first_acceptors", [1, 4])
async def test_a_port_in_use_is_refused_by_several_acceptors(first_acceptors: int) -> None:
    first = Server("127.0.0.1:0", acceptors=first_acceptors)
    await first.start()
    try:
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            Server(f"127.0.0.1:{first.port}", acceptors=4)
    finally:
        await first.stop(0)


async def test_a_port_held_by_a_plain_socket_is_refused() -> None:
    # In the event loop, as every Server is made: grpc.aio's servers take the running loop.
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{port}"):
            Server(f"127.0.0.1:{port}", acceptors=4)


def test_acceptors_must_be_positive() -> None:
    with pytest.raises(ValueError, match="acceptors"):
        Server("127.0.0.1:0", acceptors=0)
