"""Kubernetes' port-forward protocol (portforward.k8s.io) on a SPDY/3.1 session, server side, as
the kubelet's streaming server speaks it to kubectl.

For each local connection the client opens two streams with the same `requestID` header and the
remote `port`: an error stream (`streamType: error`, closed by the client at once) and a data
stream (`streamType: data`). Once both are there, the server connects to the pod's port through
`dial` and relays bytes between the data stream and the connection; FIN from the client
half-closes the connection, the pod closing its side ends the data stream. A failure (nothing
listens, the pod is gone) is written as text on the error stream, which kubectl prints ("an error
occurred forwarding 8080 -> 80: ..."); both streams are then closed. A stream without a valid
`port` and `streamType` is reset; a pair still incomplete after 30 s is given up.

`serve_port_forward` runs it over any byte transport: the WebSocket tunnel kubectl opens first
(subprotocol SPDY/3.1+portforward.k8s.io; each binary message carries the SPDY bytes, in any
split) or a plain HTTP upgrade to SPDY/3.1."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from podplane.streaming import spdy
from podplane.streaming.spdy.frames import GoAwayStatus, header_value

log = logging.getLogger(__name__)

PROTOCOL = "portforward.k8s.io"
# The WebSocket subprotocol of the tunnel, and the headers of the plain SPDY upgrade.
WEBSOCKET_PROTOCOL = "SPDY/3.1+" + PROTOCOL
UPGRADE = "SPDY/3.1"
PROTOCOL_VERSION_HEADER = "X-Stream-Protocol-Version"
STREAM_TYPE = "streamType"
PORT = "port"
REQUEST_ID = "requestID"
STREAM_TYPE_ERROR = "error"
STREAM_TYPE_DATA = "data"
STREAM_CREATION_TIMEOUT = 30.0
# Client bytes queued for one pod connection before the session stops reading.
UPSTREAM_QUEUE = 64


class PortConnection(Protocol):
    """A connection to the pod's port (sessions.PortForwardConnection over the kubelet)."""

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close_write(self) -> None: ...

    async def close(self) -> None: ...


# Connects to the pod's port; any exception's message goes on the error stream.
Dial = Callable[[int], Awaitable[PortConnection]]


def negotiate(requested: Sequence[str]) -> str | None:
    """The portforward protocol if the client offers it (as X-Stream-Protocol-Version values or
    WebSocket subprotocols, tunnelled or not); None otherwise (a 403 in Kubernetes)."""
    for name in requested:
        if name.strip() in (PROTOCOL, WEBSOCKET_PROTOCOL):
            return name.strip()
    return None


def stream_refusal(headers: Mapping[str, Sequence[str]]) -> str | None:
    """Why a new stream is refused (the kubelet's httpStreamReceived checks); None if valid."""
    port = header_value(headers, PORT)
    if not port:
        return f'"{PORT}" header is required'
    if not port.isdigit() or int(port) > 65535:
        return f'unable to parse "{port}" as a port'
    if int(port) < 1:
        return f'port "{port}" must be > 0'
    stream_type = header_value(headers, STREAM_TYPE)
    if not stream_type:
        return f'"{STREAM_TYPE}" header is required'
    if stream_type not in (STREAM_TYPE_ERROR, STREAM_TYPE_DATA):
        return f'invalid stream type "{stream_type}"'
    return None


def request_id(stream_id: int, headers: Mapping[str, Sequence[str]]) -> str:
    """The pair a stream belongs to. Clients older than the requestID header open the error
    stream and then the data stream with the next id: the error stream's id names the pair."""
    rid = header_value(headers, REQUEST_ID)
    if rid:
        return rid
    is_data = header_value(headers, STREAM_TYPE) == STREAM_TYPE_DATA
    return str(stream_id - 2 if is_data else stream_id)


@dataclass
class _Pair:
    request_id: str
    port: int
    error_stream: int | None = None
    data_stream: int | None = None
    # Client bytes for the pod; None is the client's FIN.
    upstream: asyncio.Queue[bytes | None] = field(
        default_factory=lambda: asyncio.Queue(UPSTREAM_QUEUE)
    )
    task: asyncio.Task[None] | None = None
    timeout: asyncio.TimerHandle | None = None


class PortForwardSession:
    """The protocol over one SPDY session; `send` writes the session's bytes to the client."""

    def __init__(
        self,
        dial: Dial,
        send: Callable[[bytes], Awaitable[None]],
        stream_creation_timeout: float = STREAM_CREATION_TIMEOUT,
    ) -> None:
        self._dial = dial
        self._send = send
        self._timeout = stream_creation_timeout
        self._session = spdy.ServerSession()
        self._pairs: dict[str, _Pair] = {}
        self._by_stream: dict[int, _Pair] = {}
        self._write_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self.finished = False

    async def receive(self, data: bytes) -> None:
        """Handles the client's bytes; `finished` once the client has gone away."""
        try:
            events = self._session.receive(data)
        except spdy.FrameError as e:
            log.info("port-forward: %s", e)
            self._session.go_away(GoAwayStatus.PROTOCOL_ERROR)
            self.finished = True
            events = []
        for event in events:
            await self._handle(event)
        await self.flush()

    async def flush(self) -> None:
        # Taken under the lock, so that bytes go out in the order the session made them.
        async with self._write_lock:
            out = self._session.data_to_send()
            if out:
                await self._send(out)

    async def close(self) -> None:
        """Ends every forwarded connection and goes away."""
        self.finished = True
        tasks = [p.task for p in self._pairs.values() if p.task is not None]
        for pair in list(self._pairs.values()):
            if pair.timeout is not None:
                pair.timeout.cancel()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._session.go_away()
        with contextlib.suppress(Exception):
            await self.flush()

    async def _handle(self, event: spdy.Event) -> None:
        if isinstance(event, spdy.StreamOpened):
            self._opened(event)
        elif isinstance(event, spdy.DataReceived):
            pair = self._by_stream.get(event.stream_id)
            if pair is not None and event.stream_id == pair.data_stream:
                await pair.upstream.put(event.data)
        elif isinstance(event, spdy.StreamEnded):
            pair = self._by_stream.get(event.stream_id)
            if pair is not None and event.stream_id == pair.data_stream:
                await pair.upstream.put(None)
        elif isinstance(event, spdy.StreamReset):
            pair = self._by_stream.get(event.stream_id)
            if pair is not None and event.stream_id == pair.data_stream and pair.task:
                pair.task.cancel()
        elif isinstance(event, spdy.GoAwayReceived):
            self.finished = True

    def _opened(self, event: spdy.StreamOpened) -> None:
        refusal = stream_refusal(event.headers)
        if refusal is not None:
            log.info("port-forward: stream %d rejected: %s", event.stream_id, refusal)
            self._session.reset(event.stream_id)
            return
        self._session.reply(event.stream_id)
        rid = request_id(event.stream_id, event.headers)
        pair = self._pairs.get(rid)
        if pair is None:
            pair = _Pair(rid, int(header_value(event.headers, PORT)))
            self._pairs[rid] = pair
            pair.timeout = asyncio.get_running_loop().call_later(
                self._timeout, self._timed_out, pair
            )
        kind = header_value(event.headers, STREAM_TYPE)
        taken = pair.error_stream if kind == STREAM_TYPE_ERROR else pair.data_stream
        if taken is not None:
            self._session.reset(event.stream_id)
            self._error(
                pair, f"error processing stream for request {rid}: {kind} stream already assigned"
            )
            return
        if kind == STREAM_TYPE_ERROR:
            pair.error_stream = event.stream_id
        else:
            pair.data_stream = event.stream_id
        self._by_stream[event.stream_id] = pair
        if pair.error_stream is not None and pair.data_stream is not None:
            if pair.timeout is not None:
                pair.timeout.cancel()
            pair.task = asyncio.create_task(self._forward(pair), name=f"portforward-{rid}")

    def _timed_out(self, pair: _Pair) -> None:
        if pair.task is None and self._pairs.get(pair.request_id) is pair:
            self._error(pair, f"(request={pair.request_id}) timed out waiting for streams")
            self._finish(pair)
            flushing = asyncio.create_task(self.flush())
            self._background.add(flushing)
            flushing.add_done_callback(self._background.discard)

    def _error(self, pair: _Pair, message: str) -> None:
        if pair.error_stream is not None:
            self._session.send_data(pair.error_stream, message.encode())

    def _finish(self, pair: _Pair) -> None:
        """Closes the pair's streams (FIN) and forgets it; what the client still sends on them
        is dropped."""
        for stream_id in (pair.data_stream, pair.error_stream):
            if stream_id is not None:
                self._session.end_stream(stream_id)
                self._by_stream.pop(stream_id, None)
        self._pairs.pop(pair.request_id, None)
        while not pair.upstream.empty():  # wakes a receive() waiting for room in the queue
            pair.upstream.get_nowait()

    async def _forward(self, pair: _Pair) -> None:
        try:
            await self._relay(pair)
        finally:
            self._finish(pair)
            with contextlib.suppress(Exception):
                await self.flush()

    async def _relay(self, pair: _Pair) -> None:
        assert pair.data_stream is not None
        try:
            connection = await self._dial(pair.port)
        except Exception as e:  # noqa: BLE001 - any failure is the client's to read
            self._error(pair, str(e) or type(e).__name__)
            return
        upstream = asyncio.create_task(self._upstream(pair, connection))
        try:
            while data := await connection.read():
                if not self._session.send_data(pair.data_stream, data):
                    break  # the client reset the stream
                await self.flush()
        except Exception as e:  # noqa: BLE001 - the kubelet's failure, for the client
            self._error(pair, str(e) or type(e).__name__)
        finally:
            upstream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await upstream
            with contextlib.suppress(Exception):
                await connection.close()

    @staticmethod
    async def _upstream(pair: _Pair, connection: PortConnection) -> None:
        try:
            while (data := await pair.upstream.get()) is not None:
                await connection.write(data)
            await connection.close_write()
        except Exception:  # noqa: BLE001 - the pod's side has gone: the rest is dropped
            while await pair.upstream.get() is not None:
                pass


async def serve_port_forward(
    read: Callable[[], Awaitable[bytes]],
    write: Callable[[bytes], Awaitable[None]],
    dial: Dial,
    stream_creation_timeout: float = STREAM_CREATION_TIMEOUT,
) -> None:
    """Serves one client until it goes away: `read` returns its next bytes (b"" at the end),
    `write` sends bytes to it, `dial(port)` connects to the pod's port."""
    session = PortForwardSession(dial, write, stream_creation_timeout)
    try:
        while not session.finished:
            data = await read()
            if not data:
                break
            await session.receive(data)
    finally:
        await session.close()
