"""Upgrade requests to an aggregated API (UpgradeAwareHandler's upgrade path), for WebSockets:
the client's handshake is answered once the backend has accepted the same subprotocols with the
front proxy's headers and certificate, then every message is passed on both ways until either
side closes (kubectl exec and attach over v5.channel.k8s.io, or any other WebSocket
protocol). Kubernetes passes the raw connection of any upgrade on; a SPDY upgrade is refused
here with a 400 Status, as aiohttp cannot hand the connection over."""

from __future__ import annotations

import asyncio

import aiohttp
import grpc
from aiohttp import web

from apiserver import errors
from apiserver.aggregator.backends import Backend
from apiserver.aggregator.transport import Transport, failure_text

# The handshake's own headers: the backend's handshake is made anew.
_HANDSHAKE = frozenset(
    {
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
    }
)


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").strip().lower() == "websocket"


def refused(backend: Backend, upgrade: str) -> errors.APIError:
    return errors.APIError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "BadRequest",
        f"upgrade to {upgrade or 'an unnamed protocol'} is not proxied to aggregated APIs by "
        f"this apiserver, only WebSockets (APIService {backend.name})",
    )


def _protocols(request: web.Request) -> list[str]:
    offered = ",".join(request.headers.getall("Sec-WebSocket-Protocol", []))
    return [p.strip() for p in offered.split(",") if p.strip()]


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    async for message in source:
        if message.type == aiohttp.WSMsgType.BINARY:
            await sink.send_bytes(message.data)
        elif message.type == aiohttp.WSMsgType.TEXT:
            await sink.send_str(message.data)
        else:
            break
    await sink.close()


async def proxy_websocket(
    request: web.Request,
    transport: Transport,
    backend: Backend,
    url: str,
    headers: list[tuple[str, str]],
    address: tuple[str, int],
) -> web.StreamResponse:
    """Connects to the backend first: a refused handshake is its answer's status, a failed
    connection a 503 with Go's text, as for any proxied request."""
    forwarded = [(k, v) for k, v in headers if k.lower() not in _HANDSHAKE]
    session = transport.backend_session(backend)
    try:
        upstream = await session.ws_connect(
            "wss://" + url.removeprefix("https://"),
            protocols=_protocols(request),
            headers=forwarded,
            server_hostname=backend.server_name,
            autoping=False,
        )
    except aiohttp.WSServerHandshakeError as e:
        return web.Response(status=e.status, text=e.message + "\n", content_type="text/plain")
    except (aiohttp.ClientError, TimeoutError) as e:
        text = await failure_text(e, address, backend.server_name, backend.ca_bundle)
        return web.Response(status=503, text=text + "\n", content_type="text/plain")
    client = web.WebSocketResponse(
        protocols=(upstream.protocol,) if upstream.protocol else (), autoping=False
    )
    try:
        await client.prepare(request)
        to_backend = asyncio.create_task(_pump(client, upstream))
        to_client = asyncio.create_task(_pump(upstream, client))
        _, pending = await asyncio.wait(
            (to_backend, to_client), return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
    finally:
        await upstream.close()
        await client.close()
    return client
