"""Docker's side of the streaming interface without an engine: its multiplexed output split
whatever the chunks, and port-forward's dial (entering a network namespace, or falling back to
the pod's IP) with Kubernetes' words when nothing listens."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest

from kubelet.runtime.docker import port_forward
from kubelet.runtime.docker.hijack import MultiplexedStream
from kubelet.runtime.streams import PortForwardError
from tests.support import free_port


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


def test_multiplexed_output_split_anywhere() -> None:
    wire = frame(1, b"out\n") + frame(2, b"err\n") + frame(1, b"") + frame(1, b"more")
    demux = MultiplexedStream()
    pieces = [piece for i in range(len(wire)) for piece in demux.feed(wire[i : i + 1])]
    assert pieces == [("stdout", b"out\n"), ("stderr", b"err\n"), ("stdout", b"more")]


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    server.close()


def sandbox(netns: str = "", ip: str = "", running: bool = True) -> dict[str, object]:
    return {
        "Id": "abc123",
        "State": {"Running": running},
        "NetworkSettings": {"SandboxKey": netns, "IPAddress": ip},
    }


@pytest.mark.parametrize(
    "netns",
    ["/proc/self/ns/net", "", "/nonexistent/netns"],
    ids=["inside-the-namespace", "no-namespace", "namespace-unreachable"],
)
async def test_dial_reaches_a_listener(echo_port: int, netns: str) -> None:
    # Entering this process's own namespace, or (without one) dialling the IP, 127.0.0.1 here.
    connection = await port_forward.dial(sandbox(netns, "127.0.0.1"), echo_port)
    await connection.write(b"ping")
    assert await connection.read() == b"ping"
    await connection.close()


async def test_nothing_listening_is_kubernetes_message() -> None:
    port = free_port()
    with pytest.raises(PortForwardError) as refused:
        await port_forward.dial(sandbox("/proc/self/ns/net"), port)
    assert str(refused.value).startswith(
        f'failed to connect to localhost:{port} inside namespace "abc123", IPv4: dial tcp4 '
        f"127.0.0.1:{port}: connect: connection refused IPv6 dial tcp6 [::1]:{port}: connect: "
    )


async def test_a_stopped_sandbox_is_refused() -> None:
    with pytest.raises(PortForwardError, match='pod sandbox "abc123" is not running'):
        await port_forward.dial(sandbox(running=False), 80)
