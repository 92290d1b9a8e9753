"""pods/exec, pods/attach and pods/portforward over WebSockets, as kubectl 1.30+ and other
clients speak them: exec and attach on the channel protocol (v5.channel.k8s.io, as
k8s.io/apiserver's stream translator serves it; v4 and older, as the kubelet does), port-forward
as SPDY/3.1 tunnelled in a WebSocket (SPDY/3.1+portforward.k8s.io, kubectl's) or on the kubelet's
own WebSocket channels (v4.channel.k8s.io, v4.base64.channel.k8s.io or none, the `ports` query
parameter: @kubernetes/client-node's). The pod, container and node are found and checked by
apiserver.registry.pod.proxy, as for the gRPC door; the connection is then relayed to the node's
kubelet by podplane.streaming. What kube-apiserver leaves to the kubelet it proxies to is answered
in the kubelet's words: a WebSocket offering none of the kubelet's subprotocols gets its
handshake's bare 403, a port-forward without ports its plain-text 400, an exec or attach before
v5 that the kubelet refuses its HTTP error before the upgrade.

Over v5, as Kubernetes' stream translator does since 1.30, the WebSocket is accepted first and a
kubelet that refuses the session is reported on the error channel; problems the apiserver sees
itself (no such pod, a completed pod, no stdin/stdout/stderr asked for) are ordinary HTTP errors
before the upgrade.
kubectl falls back to the plain SPDY upgrade only when the WebSocket upgrade fails, which it
does not here, so that older path is not served."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from apiserver import errors
from apiserver.endpoints.rest.request import ResourceRequest, truthy
from apiserver.registry.generic.store import Store
from apiserver.registry.pod import proxy
from podplane.api.core.v1 import core_pb2
from podplane.api.kubelet.v1 import kubelet_pb2_grpc
from podplane.streaming import port_forward, port_forward_websocket, remotecommand
from podplane.streaming.exec_relay import (
    StreamOptions,
    is_refusal,
    refusal_code,
    refusal_text,
    relay_remotecommand,
)
from podplane.streaming.sessions import (
    ContainerSession,
    KubeletStreamError,
    PortForwardConnection,
)

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


def _is_websocket(request: web.Request) -> bool:
    """A valid WebSocket upgrade (its subprotocols aside, which the caller negotiates)."""
    return web.WebSocketResponse(protocols=_requested(request)).can_prepare(request).ok


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
    if not _is_websocket(request):
        raise _not_websocket()
    protocol = remotecommand.negotiate(_requested(request))
    if protocol is None:
        return web.Response(status=403)  # the WebSocket handshake's refusal, with no body
    async with proxy.kubelet_stub(target) as stub:
        open_session = _session_opener(stub, target, command, options, attach=attach)
        session: ContainerSession | None = None
        if protocol.name != remotecommand.V5:
            # The kubelet's own WebSocket, which kube-apiserver proxies to: a session it
            # refuses is its HTTP error, before the upgrade.
            try:
                session = await open_session()
            except KubeletStreamError as e:
                if is_refusal(e):
                    return web.Response(status=refusal_code(e), text=refusal_text(e))
                open_session = _failing(e)
            else:
                open_session = _opened(session)
        ws = _websocket(protocol.name)
        try:
            await ws.prepare(request)
        except BaseException:
            if session is not None:
                await session.close()
            raise
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


def _session_opener(
    stub: kubelet_pb2_grpc.KubeletStub,
    target: proxy.Target,
    command: list[str],
    options: StreamOptions,
    *,
    attach: bool,
) -> Callable[[], Awaitable[ContainerSession]]:
    """Starts the exec or attach session on the pod's kubelet."""
    pod = target.pod

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

    return open_session


def _opened(session: ContainerSession) -> Callable[[], Awaitable[ContainerSession]]:
    async def opened() -> ContainerSession:
        return session

    return opened


def _failing(error: KubeletStreamError) -> Callable[[], Awaitable[ContainerSession]]:
    async def failing() -> ContainerSession:
        raise error

    return failing


def _dialer(stub: kubelet_pb2_grpc.KubeletStub, pod: core_pb2.Pod) -> port_forward.Dial:
    """Connects to the pod's port through its kubelet (Kubelet/PortForward, one call each)."""

    async def dial(port: int) -> PortForwardConnection:
        return await PortForwardConnection.open(
            stub, namespace=pod.metadata.namespace, pod_name=pod.metadata.name, port=port
        )

    return dial


async def _port_forward(
    request: web.Request,
    req: ResourceRequest,
    pods: Store[core_pb2.Pod],
    nodes: Store[core_pb2.Node],
) -> web.StreamResponse:
    try:
        ports = port_forward_websocket.convert_ports(
            request.query.getall(port_forward_websocket.PORTS_PARAMETER, [])
        )
    except port_forward_websocket.PortsError as e:
        raise errors.bad_request(str(e)) from None
    target = await proxy.port_forward_target(pods, nodes, req.namespace, req.name)
    requested = _requested(request)
    if port_forward.WEBSOCKET_PROTOCOL in requested:
        return await _spdy_tunnel(request, target)
    return await _plain_port_forward(request, target, requested, ports)


async def _spdy_tunnel(request: web.Request, target: proxy.Target) -> web.StreamResponse:
    """kubectl's PortForwardWebsockets: SPDY/3.1 in the WebSocket's binary messages."""
    ws = _websocket(port_forward.WEBSOCKET_PROTOCOL)
    if not ws.can_prepare(request).ok:
        raise _not_websocket()
    await ws.prepare(request)

    async def read() -> bytes:
        """The tunnel's next bytes (empty messages skipped); b"" once the client has gone."""
        while (message := await _receive(ws)) is not None:
            data = message.encode() if isinstance(message, str) else message
            if data:
                return data
        return b""

    async with proxy.kubelet_stub(target) as stub:
        await port_forward.serve_port_forward(read, ws.send_bytes, _dialer(stub, target.pod))
    await ws.close()
    return ws


async def _plain_port_forward(
    request: web.Request, target: proxy.Target, requested: list[str], ports: list[int]
) -> web.StreamResponse:
    """The kubelet's own WebSocket port-forward (channels per port, the `ports` query parameter),
    which kube-apiserver proxies to the kubelet: its refusals are the kubelet's plain-text
    400 and the bare 403 of its WebSocket handshake."""
    if not _is_websocket(request):
        raise _not_websocket()
    try:  # the kubelet's check of the ports the apiserver passes it, one `port` value each
        port_forward_websocket.kubelet_ports([str(port) for port in ports])
    except port_forward_websocket.PortsError as e:
        return web.Response(status=400, text=str(e))
    protocol = port_forward_websocket.negotiate(requested)
    if protocol is None:
        return web.Response(status=403)
    ws = _websocket(protocol.name)
    await ws.prepare(request)
    async with proxy.kubelet_stub(target) as stub:
        await port_forward_websocket.serve_port_forward_websocket(
            protocol,
            ports,
            lambda: _receive(ws),
            lambda message: _send(ws, message),
            _dialer(stub, target.pod),
        )
    await ws.close()
    return ws
