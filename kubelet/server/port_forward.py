"""Kubelet/PortForward's work (kubelet server.go getPortForward, one forwarded connection per
call): connects to the port inside the pod's sandbox through the runtime, then relays bytes both
ways. The end of the caller's requests half-closes the connection; the pod closing its side ends
the call. KubeletServicer (kubelet/server/servicer.py) finds the pod and serves it; the pod's
sandbox (`ready_sandbox_id`) is the HTTPS API's /portForward's too
(kubelet/server/port_forward_websocket.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc

from kubelet.runtime.streams import PodConnection
from kubelet.runtime.types import ContainerRuntime
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2


def forwarding_error(port: int, sandbox_id: str, reason: str) -> str:
    """Kubernetes' words: the streaming server names the sandbox, and no uid."""
    return f"error forwarding port {port} to pod {sandbox_id}, uid : {reason}"


class NoSandbox(Exception):
    """The pod has no ready sandbox to forward into (kuberuntime's GetPortForward)."""


async def ready_sandbox_id(runtime: ContainerRuntime, pod: core_pb2.Pod) -> str:
    """The pod's newest ready sandbox, whose network namespace the port is dialled in; raises
    NoSandbox, or ContainerRuntimeError when the runtime cannot say."""
    sandboxes = await runtime.list_pod_sandboxes(pod.metadata.uid)
    ready = [s for s in sandboxes if s.ready]
    if not ready:
        raise NoSandbox(
            f"failed to find sandboxID for pod {pod.metadata.name}_"
            f"{pod.metadata.namespace}({pod.metadata.uid})"
        )
    return max(ready, key=lambda s: (s.attempt, s.created_at)).id


async def _upstream(
    connection: PodConnection, requests: AsyncIterator[kubelet_pb2.PortForwardRequest]
) -> None:
    try:
        async for request in requests:
            if request.WhichOneof("kind") == "data":
                await connection.write(request.data)
    except (ConnectionError, OSError):
        return  # the pod has gone: its side ends the call
    except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
        return
    await connection.close_write()


async def relay(
    connection: PodConnection, requests: AsyncIterator[kubelet_pb2.PortForwardRequest]
) -> AsyncIterator[kubelet_pb2.PortForwardResponse]:
    """`connected`, then the pod's bytes until it closes its side."""
    upstream = asyncio.create_task(_upstream(connection, requests), name="portforward-upstream")
    try:
        yield kubelet_pb2.PortForwardResponse(connected=kubelet_pb2.PortForwardConnected())
        while data := await connection.read():
            yield kubelet_pb2.PortForwardResponse(data=data)
    finally:
        upstream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upstream
        await connection.close()
