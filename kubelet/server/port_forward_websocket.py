"""The kubelet API's /portForward/<namespace>/<pod>[/<uid>] over a WebSocket (server.go
getPortForward, then the streaming server's portforward/websocket.go): the ports in the `port`
query parameter, per port a data and an error channel (podplane/streaming/
port_forward_websocket.py), each port dialled in the pod's sandbox through the runtime, a port
that cannot be reached reported on its error channel in Kubernetes' words ("error forwarding port
..."). Refusals as the kubelet answers them: bad ports a plain-text 400, an unknown pod a 404 (`pod
does not exist`; `pod not found` for another uid), no sandbox a 500, and a WebSocket offering none
of v4.channel.k8s.io, v4.base64.channel.k8s.io or no subprotocol at all the handshake's bare 403.
The SPDY upgrade is not served here (400)."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp import web

from kubelet.runtime.streams import PodConnection, PortForwardError, PortForwarding
from kubelet.runtime.types import ContainerRuntime, ContainerRuntimeError
from kubelet.server.port_forward import NoSandbox, forwarding_error, ready_sandbox_id
from podplane.api.core.v1 import core_pb2
from podplane.streaming import port_forward_websocket as pfw
from podplane.streaming import remotecommand

HEARTBEAT_SECONDS = 30.0
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def _text(message: str, status: int) -> web.Response:
    """go-restful's WriteError and the streaming server's WriteError: the text alone."""
    return web.Response(status=status, text=message)


class PortForwardWebSocket:
    """The handler; `get_pod` finds a pod this node runs by its "<namespace>/<name>" key."""

    def __init__(
        self, runtime: ContainerRuntime, get_pod: Callable[[str], core_pb2.Pod | None]
    ) -> None:
        self.runtime = runtime
        self.get_pod = get_pod

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/portForward/{namespace}/{pod}", self.serve),
            web.get("/portForward/{namespace}/{pod}/{uid}", self.serve),
        ]

    async def serve(self, request: web.Request) -> web.StreamResponse:
        requested = remotecommand.requested_protocols(
            request.headers.getall(remotecommand.PROTOCOL_HEADER, [])
        )
        if not web.WebSocketResponse(protocols=requested).can_prepare(request).ok:
            return _text("unable to upgrade: this kubelet serves port-forward over WebSockets", 400)
        try:
            ports = pfw.kubelet_ports(request.query.getall(pfw.KUBELET_PORT_PARAMETER, []))
        except pfw.PortsError as e:
            return _text(str(e), 400)
        info = request.match_info
        pod = self.get_pod(f"{info['namespace']}/{info['pod']}")
        if pod is None:
            return _text("pod does not exist", 404)
        if info.get("uid") and info["uid"] != pod.metadata.uid:
            return _text("pod not found", 404)
        runtime = self.runtime
        if not isinstance(runtime, PortForwarding):
            return _text("this node's container runtime cannot forward ports", 500)
        try:
            sandbox_id = await ready_sandbox_id(runtime, pod)
        except (NoSandbox, ContainerRuntimeError) as e:
            return _text(str(e), 500)
        protocol = pfw.negotiate(requested)
        if protocol is None:
            return web.Response(status=403)  # the WebSocket handshake's refusal, with no body
        ws = web.WebSocketResponse(
            protocols=(protocol.name,) if protocol.name else (),
            heartbeat=HEARTBEAT_SECONDS,
            max_msg_size=MAX_MESSAGE_BYTES,
        )
        await ws.prepare(request)

        async def dial(port: int) -> PodConnection:
            try:
                return await runtime.dial_pod_port(sandbox_id, port)
            except PortForwardError as e:
                raise PortForwardError(forwarding_error(port, sandbox_id, str(e))) from None

        async def receive() -> bytes | str | None:
            async for message in ws:
                if message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                    data: bytes | str = message.data
                    return data
            return None

        async def send(message: bytes | str) -> None:
            if isinstance(message, str):
                await ws.send_str(message)
            else:
                await ws.send_bytes(message)

        await pfw.serve_port_forward_websocket(protocol, ports, receive, send, dial)
        await ws.close()
        return ws
