"""pods/exec, pods/attach and pods/portforward over WebSockets, as kubectl 1.30+ speaks them
(k8s.io/apiserver's stream translator): exec and attach on the v5/v4.channel.k8s.io channel
protocol, port-forward as SPDY/3.1 tunnelled in a WebSocket (SPDY/3.1+portforward.k8s.io). The
pod, container and node are found and checked by apiserver.registry.pod.proxy, as for the gRPC
door; the connection is then relayed to the node's kubelet by podplane.streaming.

As Kubernetes does since 1.30, the WebSocket is accepted first and a kubelet that refuses the
session is reported on the error channel; problems the apiserver sees itself (no such pod, a
completed pod, no stdin/stdout/stderr asked for) are ordinary HTTP errors before the upgrade.
kubectl falls back to the plain SPDY upgrade only when the WebSocket upgrade fails, which it
does not here, so that older path is not served."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from apiserver import errors
from apiserver.endpoints.rest.request import ResourceRequest, truthy
from apiserver.registry.generic.store import Store
from apiserver.registry.pod import proxy
from podplane.api.core.v1 import core_pb2
from podplane.streaming import port_forward, remotecommand
from podplane.streaming.exec_relay import StreamOptions, relay_remotecommand
from podplane.streaming.sessions import ContainerSession, PortForwardConnection

# kubectl pings every 5 s and gives up after 61 s without an answer; aiohttp answers pings
# itself and pings a quiet client on this period.
HEARTBEAT_SECONDS = 30.0
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def _requested(request: web.Request) -> list[str]:
    return remotecommand.requested_protocols(request.headers.getall("Sec-WebSocket-Protocol", []))


def _websocket(chosen: str) -> web.WebSocketResponse:
    return web.WebSocketResponse(
        protocols=(chosen,) if chosen else (),
        heartbeat=HEARTBEAT_SECONDS,
        max_msg_size=MAX_MESSAGE_BYTES,
        autoping=True,
    )


async def _receive(ws: web.WebSocketResponse) -> bytes | str | None:
    """The client's next data message; None once it has closed or gone."""
    async for message in ws:
        if message.type == aiohttp.WSMsgType.BINARY:
            data: bytes = message.data
            return data
        if message.type == aiohttp.WSMsgType.TEXT:
            text: str = message.data
            return text
    return None


async def _send(ws: web.WebSocketResponse, message: bytes | str) -> None:
    if isinstance(message, str):
        await ws.send_str(message)
    else:
        await ws.send_bytes(message)


def _not_websocket() -> errors.APIError:
    return errors.bad_request(
        "Upgrade request required: exec, attach and port-forward are "
        "served over WebSockets (Connection: Upgrade, Upgrade: websocket)"
    )


async def serve(
    request: web.Request,
    req: ResourceRequest,
    pods: Store[core_pb2.Pod],
    nodes: Store[core_pb2.Node],
) -> web.StreamResponse:
    if req.subresource == "portforward":
        return await _port_forward(request, req, pods, nodes)
    return await _remotecommand(request, req, pods, nodes)


async def _remotecommand(
    request: web.Request,
    req: ResourceRequest,
    pods: Store[core_pb2.Pod],
    nodes: Store[core_pb2.Node],
) -> web.StreamResponse:
    q = request.query
    attach = req.subresource == "attach"
    options = StreamOptions(
        stdin=truthy(q.get("stdin")),
        stdout=truthy(q.get("stdout")),
        stderr=truthy(q.get("stderr")),
        tty=truthy(q.get("tty")),
    )
    command = q.getall("command", [])
    if not (options.stdin or options.stdout or options.stderr):
        raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    if not attach and not command:
        raise errors.bad_request("you must specify at least one command for the container")
    target = await (proxy.attach_target if attach else proxy.exec_target)(
        pods, nodes, req.namespace, req.name, q.get("container", "")
    )
    protocol = remotecommand.negotiate(_requested(request))
    if protocol is None:
        raise errors.bad_request(
            "unable to upgrade connection: none of the requested "
            "subprotocols is supported (v5.channel.k8s.io, "
            "v4.channel.k8s.io, channel.k8s.io)"
        )
    ws = _websocket(protocol.name)
    if not ws.can_prepare(request).ok:
        raise _not_websocket()
    await ws.prepare(request)
    pod = target.pod
    async with proxy.kubelet_stub(target) as stub:

        async def open_session() -> ContainerSession:
            if attach:
                return await ContainerSession.attach(
                    stub,
                    namespace=pod.metadata.namespace,
                    pod_name=pod.metadata.name,
                    container=target.container,
                    stdin=options.stdin,
                    stdout=options.stdout,
                    stderr=options.stderr,
                )
            return await ContainerSession.exec(
                stub,
                namespace=pod.metadata.namespace,
                pod_name=pod.metadata.name,
                container=target.container,
                command=command,
                stdin=options.stdin,
                stdout=options.stdout,
                stderr=options.stderr,
                tty=options.tty,
            )

        await relay_remotecommand(
            protocol,
            options,
            open_session,
            lambda: _receive(ws),
            lambda message: _send(ws, message),
            attach=attach,
        )
    await ws.close()
    return ws


async def _port_forward(
    request: web.Request,
    req: ResourceRequest,
    pods: Store[core_pb2.Pod],
    nodes: Store[core_pb2.Node],
) -> web.StreamResponse:
    target = await proxy.port_forward_target(pods, nodes, req.namespace, req.name)
    chosen = port_forward.negotiate(_requested(request))
    if chosen != port_forward.WEBSOCKET_PROTOCOL:
        raise errors.APIError(
            errors.bad_request("").code,
            "Forbidden",
            f"unable to upgrade connection: the portforward protocol over "
            f"WebSockets ({port_forward.WEBSOCKET_PROTOCOL}) is required",
        )
    ws = _websocket(chosen)
    if not ws.can_prepare(request).ok:
        raise _not_websocket()
    await ws.prepare(request)
    pod = target.pod

    async def read() -> bytes:
        """The tunnel's next bytes (empty messages skipped); b"" once the client has gone."""
        while (message := await _receive(ws)) is not None:
            data = message.encode() if isinstance(message, str) else message
            if data:
                return data
        return b""

    async with proxy.kubelet_stub(target) as stub:

        async def dial(port: int) -> PortForwardConnection:
            return await PortForwardConnection.open(
                stub, namespace=pod.metadata.namespace, pod_name=pod.metadata.name, port=port
            )

        await port_forward.serve_port_forward(read, ws.send_bytes, dial)
    await ws.close()
    return ws
