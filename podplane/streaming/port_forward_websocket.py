"""Kubernetes' port-forward over a plain WebSocket, as the kubelet's streaming server speaks it
(portforward/websocket.go on wsstream's channels) and @kubernetes/client-node's PortForward and
other clients use it: one WebSocket per connection, its ports in the request's `ports` query
parameter (`?ports=8080&ports=9090` or `?ports=8080,9090`).

Port i has two channels: data 2i (both ways) and error 2i+1 (server to client). Each message
starts with its channel's byte. The server's first message on each channel is the port, 2 bytes
little-endian; then the pod's bytes come on the data channel and the client's bytes on it go to
the pod. A port that cannot be reached, or fails, gets one text message on its error channel (the
kubelet's "error forwarding port ..."). Nothing half-closes: a port's connection ends when the pod
closes it, the WebSocket once every port's connection has ended or when the client closes it.

Subprotocols (wsstream's handshake takes the client's first one the server speaks):
v4.channel.k8s.io (binary messages), v4.base64.channel.k8s.io (text messages: the channel as an
ASCII digit, then the data in base64), or none at all (binary). A client that offers only others
is refused (403) before the upgrade."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from podplane.streaming import remotecommand as rc
from podplane.streaming.port_forward import UPSTREAM_QUEUE, Dial, PortConnection

log = logging.getLogger(__name__)

# The query parameter of the apiserver's PodPortForwardOptions, and the one the kubelet reads.
PORTS_PARAMETER = "ports"
KUBELET_PORT_PARAMETER = "port"
PROTOCOLS: dict[str, rc.ChannelProtocol] = {
    rc.V4: rc.PROTOCOLS[rc.V4],
    rc.V4_BASE64: rc.PROTOCOLS[rc.V4_BASE64],
}

Receive = Callable[[], Awaitable[bytes | str | None]]
Send = Callable[[bytes | str], Awaitable[None]]


def negotiate(requested: Sequence[str]) -> rc.ChannelProtocol | None:
    """The first of the client's subprotocols served here; UNNAMED (binary) when it names none;
    None when it names only others (the kubelet's handshake answers 403)."""
    if not requested:
        return rc.UNNAMED
    for name in requested:
        if name in PROTOCOLS:
            return PROTOCOLS[name]
    return None


class PortsError(ValueError):
    """Ports refused: the apiserver's conversion error (a 400 BadRequest Status) or the
    kubelet's (a plain-text 400)."""


def convert_ports(values: Sequence[str]) -> list[int]:
    """PodPortForwardOptions.ports from the apiserver's query (metav1's
    Convert_Slice_string_To_Slice_int32: repeated parameters, each possibly comma-separated,
    each an unsigned 16-bit number); PortsError with its text otherwise."""
    ports = []
    for value in values:
        for text in value.split(","):
            ports.append(_parse_port(text, "cannot convert to []int32: "))
    return ports


def kubelet_ports(values: Sequence[str]) -> list[int]:
    """The ports of the kubelet's WebSocket port-forward, from its `port` query parameter
    (portforward.NewV4Options; the apiserver passes each port as a value of its own);
    PortsError with the kubelet's text (a plain-text 400) otherwise."""
    if not values:
        raise PortsError(f'query parameter "{KUBELET_PORT_PARAMETER}" is required')
    ports = []
    for value in values:
        if not value:
            raise PortsError(f'query parameter "{KUBELET_PORT_PARAMETER}" cannot be empty')
        for text in value.split(","):
            port = _parse_port(text, f'unable to parse "{value}" as a port: ')
            if port < 1:
                raise PortsError(f'port "{value}" must be > 0')
            ports.append(port)
    return ports


def _parse_port(text: str, context: str) -> int:
    """strconv.ParseUint(text, 10, 16), its error after `context`."""
    if not text.isascii() or not text.isdigit():
        raise PortsError(f'{context}strconv.ParseUint: parsing "{text}": invalid syntax')
    if int(text) > 65535:
        raise PortsError(f'{context}strconv.ParseUint: parsing "{text}": value out of range')
    return int(text)


def port_prefix(port: int) -> bytes:
    return port.to_bytes(2, "little")


def decode(protocol: rc.ChannelProtocol, message: bytes | str) -> tuple[int, bytes] | None:
    """A client message's channel and data; None for a message wsstream drops (empty, or bad
    base64)."""
    raw = message.encode() if isinstance(message, str) else message
    if not raw:
        return None
    channel, data = raw[0], raw[1:]
    if protocol.base64:
        channel -= ord("0")
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return None
    return channel, data


@dataclass
class _Port:
    index: int
    port: int
    # Client bytes for the pod; None ends the relay (the client has gone).
    upstream: asyncio.Queue[bytes | None] = field(
        default_factory=lambda: asyncio.Queue(UPSTREAM_QUEUE)
    )
    done: bool = False

    @property
    def data_channel(self) -> int:
        return 2 * self.index

    @property
    def error_channel(self) -> int:
        return 2 * self.index + 1

    def finish(self) -> None:
        """Nothing more is read for the pod; a receive waiting for room in the queue goes on."""
        self.done = True
        while not self.upstream.empty():
            self.upstream.get_nowait()


class PortForwardWebSocket:
    """One accepted WebSocket: `run()` relays every port until all have ended or the client has
    gone; the caller then closes the WebSocket."""

    def __init__(
        self,
        protocol: rc.ChannelProtocol,
        ports: Sequence[int],
        receive: Receive,
        send: Send,
        dial: Dial,
    ) -> None:
        self._protocol = protocol
        self._ports = [_Port(i, port) for i, port in enumerate(ports)]
        self._receive = receive
        self._send = send
        self._dial = dial
        self._send_lock = asyncio.Lock()

    async def run(self) -> None:
        for p in self._ports:
            prefix = port_prefix(p.port)
            await self._write(p.data_channel, prefix)
            await self._write(p.error_channel, prefix)
        relays = [
            asyncio.create_task(self._forward(p), name=f"portforward-{p.port}") for p in self._ports
        ]
        reader = asyncio.create_task(self._client_to_pods(), name="portforward-client")
        try:
            running: set[asyncio.Task[None]] = set(relays)
            while running and not reader.done():
                await asyncio.wait({reader, *running}, return_when=asyncio.FIRST_COMPLETED)
                running = {task for task in running if not task.done()}
        finally:
            for task in (*relays, reader):
                task.cancel()
            for task in (*relays, reader):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _write(self, channel: int, data: bytes) -> None:
        async with self._send_lock:
            # A channel is one byte: past 127 ports the numbers wrap, as wsstream's byte(i) does.
            await self._send(self._protocol.frame(channel % 256, data))

    async def _client_to_pods(self) -> None:
        """The client's data messages to their ports' queues, until the client has gone."""
        while (message := await self._receive()) is not None:
            decoded = decode(self._protocol, message)
            if decoded is None:
                continue
            channel, data = decoded
            # Only data channels are read; wsstream drops frames for any other channel.
            if channel % 2 or channel // 2 >= len(self._ports) or not data:
                continue
            target = self._ports[channel // 2]
            if not target.done:
                await target.upstream.put(data)

    async def _forward(self, p: _Port) -> None:
        try:
            await self._relay(p)
        finally:
            p.finish()

    async def _relay(self, p: _Port) -> None:
        try:
            connection = await self._dial(p.port)
        except Exception as e:  # noqa: BLE001 - any failure is the client's to read
            await self._write(p.error_channel, (str(e) or type(e).__name__).encode())
            return
        upstream = asyncio.create_task(self._pod_upstream(p, connection))
        try:
            while data := await connection.read():
                await self._write(p.data_channel, data)
        except Exception as e:  # noqa: BLE001 - the kubelet's failure, for the client
            log.info("port-forward to port %d: %s", p.port, e)
            with contextlib.suppress(Exception):
                await self._write(p.error_channel, (str(e) or type(e).__name__).encode())
        finally:
            upstream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await upstream
            with contextlib.suppress(Exception):
                await connection.close()

    @staticmethod
    async def _pod_upstream(p: _Port, connection: PortConnection) -> None:
        try:
            while (data := await p.upstream.get()) is not None:
                await connection.write(data)
        except Exception:  # noqa: BLE001 - the pod's side has gone: the rest is dropped
            p.finish()


async def serve_port_forward_websocket(
    protocol: rc.ChannelProtocol,
    ports: Sequence[int],
    receive: Receive,
    send: Send,
    dial: Dial,
) -> None:
    """Serves one accepted WebSocket to its end: `receive` returns the client's next message
    (None once it has gone), `send` sends one, `dial(port)` connects to the pod's port."""
    await PortForwardWebSocket(protocol, ports, receive, send, dial).run()
