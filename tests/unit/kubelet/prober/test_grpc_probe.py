"""gRPC probes against a real gRPC server on this host: SERVING is success; NOT_SERVING, a
server without the health service and a port nobody serves fail, in the kubelet's words."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import grpc
import pytest_asyncio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from kubelet.prober.probes import run_probe
from kubelet.prober.results import Result
from kubelet.runtime.hollow import HollowRuntime
from podplane.api.core.v1 import core_pb2


@pytest_asyncio.fixture
async def health_server() -> AsyncIterator[tuple[int, health.HealthServicer]]:
    server = grpc.aio.server()
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port, servicer
    await server.stop(0)


def grpc_probe(port: int, service: str | None = None) -> core_pb2.Probe:
    action = core_pb2.GRPCAction(port=port)
    if service is not None:
        action.service = service
    return core_pb2.Probe(grpc=action, timeout_seconds=1)


async def probe(port: int, service: str | None = None) -> tuple[Result, str]:
    outcome = await run_probe(
        HollowRuntime(), grpc_probe(port, service), core_pb2.Container(name="a"), "", "127.0.0.1"
    )
    return outcome.result, outcome.output


async def test_serving_and_not_serving(health_server: tuple[int, health.HealthServicer]) -> None:
    port, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    servicer.set("db", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert await probe(port) == (Result.SUCCESS, "service healthy")
    assert await probe(port, "db") == (
        Result.FAILURE,
        'service unhealthy (responded with "NOT_SERVING")',
    )
    result, output = await probe(port, "nope")
    assert result == Result.FAILURE
    assert output == "error: health rpc probe failed: rpc error: code = NotFound desc = "


async def test_a_server_without_the_health_service() -> None:
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        result, output = await probe(port)
    finally:
        await server.stop(0)
    assert result == Result.FAILURE
    assert output.startswith(
        "error: this server does not implement the grpc health protocol (grpc.health.v1.Health)"
    )


async def test_nobody_listening() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert await probe(port) == (
        Result.FAILURE,
        f'timeout: failed to connect service "127.0.0.1:{port}" within 1s: context deadline '
        f"exceeded",
    )
