"""gRPC probes (pkg/probe/grpc): the gRPC health checking protocol, grpc.health.v1.Health/Check
with the probe's `service`, over plaintext to the pod IP and the probe's port; SERVING is
success. The failures are worded as the kubelet's: a server that does not answer within the
timeout, one without the health service, one that answers NOT_SERVING."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kubelet.prober.results import Result
from podplane.client.grpc_status import go_error

USER_AGENT = "kube-probe/1.31"


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() of whole or fractional seconds: 1s, 1.5s."""
    return f"{seconds:g}s"


async def grpc_probe(host: str, port: int, service: str, timeout: float) -> tuple[Result, str]:
    """(result, output) of one Health/Check; the channel is closed afterwards."""
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    options = [("grpc.primary_user_agent", USER_AGENT)]
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        try:
            async with asyncio.timeout(timeout):
                await channel.channel_ready()
        except TimeoutError:
            return Result.FAILURE, (
                f'timeout: failed to connect service "{address}" within '
                f"{go_duration(timeout)}: context deadline exceeded"
            )
        stub = health_pb2_grpc.HealthStub(channel)
        remaining = max(deadline - loop.time(), 0.001)
        try:
            response = await stub.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=remaining
            )
        except grpc.aio.AioRpcError as e:
            if e.code() == grpc.StatusCode.UNIMPLEMENTED:
                return Result.FAILURE, (
                    "error: this server does not implement the grpc health protocol "
                    f"(grpc.health.v1.Health): {e.details()}"
                )
            if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return Result.FAILURE, (
                    f"timeout: health rpc did not complete within {go_duration(timeout)}"
                )
            return Result.FAILURE, (
                f"error: health rpc probe failed: {go_error(e.code(), e.details() or '')}"
            )
    if response.status != health_pb2.HealthCheckResponse.SERVING:
        name = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        return Result.FAILURE, f'service unhealthy (responded with "{name}")'
    return Result.SUCCESS, "service healthy"
