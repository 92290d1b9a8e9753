"""The CRI's streaming calls, Exec and Attach: the runtime answers with the URL of its streaming
server, which speaks Kubernetes' remotecommand protocol over SPDY/3.1 (kubelet/cri/streaming and
client-go's remotecommand, as kubectl does): an HTTP upgrade, then one SPDY stream per channel
(error, stdin, stdout, stderr, resize), opened by this side. v4.channel.k8s.io ends with a
Status on the error stream, whose causes carry the exit code. Closing stdin is a FIN on its
stream, which the process reads as end-of-file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from kubelet.runtime.streams import StreamOptions, TerminalSize
from kubelet.runtime.types import ContainerRuntimeError, ExecOutput
from podplane.streaming.spdy.client import ClientSession, StreamReplied
from podplane.streaming.spdy.frames import FrameError
from podplane.streaming.spdy.session import DataReceived, StreamEnded, StreamReset

PROTOCOL = "v4.channel.k8s.io"
STREAM_TYPE = "streamtype"
_TERMINAL_EOF = b"\x04"
_READ_SIZE = 64 * 1024
CONNECT_TIMEOUT = 10.0


async def _upgrade(
    url: str, protocols: Sequence[str]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """POSTs an upgrade to SPDY/3.1 to the streaming server's URL; the connection after its 101."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "") or not parts.hostname:
        raise ContainerRuntimeError(f"unsupported streaming URL {url!r}")
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    except (OSError, TimeoutError) as e:
        raise ContainerRuntimeError(f"cannot reach the runtime's streaming server: {e}") from e
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = [
        f"POST {path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Connection: Upgrade",
        "Upgrade: SPDY/3.1",
        *(f"X-Stream-Protocol-Version: {p}" for p in protocols),
        "Content-Length: 0",
        "",
        "",
    ]
    writer.write("\r\n".join(request).encode())
    try:
        await writer.drain()
        async with asyncio.timeout(CONNECT_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
        writer.close()
        raise ContainerRuntimeError(f"the runtime's streaming server: {e}") from e
    status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 101 " not in f"{status_line} ":
        body = b""
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(1):
                body = await reader.read(4096)
        writer.close()
        message = body.decode(errors="replace").strip() or status_line
        raise ContainerRuntimeError(message)
    return reader, writer


class SpdyConnection:
    """A client SPDY session over a connection: streams opened by this side, each read as a
    queue of data chunks ending with None (FIN or reset)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._session = ClientSession()
        self._queues: dict[int, asyncio.Queue[bytes | None]] = {}
        # Each opened stream's answer: True once the server accepted it (its SYN_REPLY), False
        # if the connection ended first.
        self._replies: dict[int, asyncio.Future[bool]] = {}
        self._lock = asyncio.Lock()
        self._pump = asyncio.create_task(self._read_loop(), name="cri-spdy-reader")

    @classmethod
    async def connect(cls, url: str, protocols: Sequence[str]) -> SpdyConnection:
        reader, writer = await _upgrade(url, protocols)
        return cls(reader, writer)

    async def _flush(self) -> None:
        out = self._session.data_to_send()
        if out and not self._writer.is_closing():
            self._writer.write(out)
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.drain()

    async def _read_loop(self) -> None:
        try:
            while data := await self._reader.read(_READ_SIZE):
                async with self._lock:
                    events = self._session.receive(data)
                    await self._flush()  # ping echoes
                for event in events:
                    if isinstance(event, StreamReplied):
                        self._answer(event.stream_id, True)
                    elif isinstance(event, DataReceived):
                        self._queues[event.stream_id].put_nowait(event.data)
                    elif isinstance(event, StreamEnded | StreamReset):
                        self._queues[event.stream_id].put_nowait(None)
        except (ConnectionError, OSError, FrameError):
            pass
        finally:
            for queue in self._queues.values():
                queue.put_nowait(None)  # the connection is gone: every stream has ended
            for stream_id in self._replies:
                self._answer(stream_id, False)  # no reply is coming

    async def open(self, stream_type: str, **headers: str) -> int:
        async with self._lock:
            stream_id = self._session.open_stream(
                {STREAM_TYPE: [stream_type], **{k.lower(): [v] for k, v in headers.items()}}
            )
            self._queues[stream_id] = asyncio.Queue()
            self._replies[stream_id] = asyncio.get_running_loop().create_future()
            await self._flush()
        return stream_id

    def _answer(self, stream_id: int, accepted: bool) -> None:
        reply = self._replies.get(stream_id)
        if reply is not None and not reply.done():
            reply.set_result(accepted)

    async def replied(self, stream_id: int) -> None:
        """Waits for the server to accept the stream (its SYN_REPLY), as client-go's CreateStream
        does."""
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                accepted = await asyncio.shield(self._replies[stream_id])
        except TimeoutError:
            message = "the runtime's streaming server did not accept a stream"
            raise ContainerRuntimeError(message) from None
        if not accepted:
            raise ContainerRuntimeError("the runtime's streaming server closed the connection")

    async def send(self, stream_id: int, data: bytes, fin: bool = False) -> None:
        async with self._lock:
            self._session.send_data(stream_id, data, fin)
            await self._flush()

    async def read(self, stream_id: int) -> bytes | None:
        return await self._queues[stream_id].get()

    async def read_all(self, stream_id: int) -> bytes:
        chunks = []
        while (chunk := await self.read(stream_id)) is not None:
            chunks.append(chunk)
        return b"".join(chunks)

    async def close(self) -> None:
        async with self._lock:
            self._session.go_away()
            await self._flush()
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


def exit_code(status: bytes) -> int:
    """v4's final Status: Success is 0; NonZeroExitCode names the code in its causes; any other
    failure is the runtime's error, in its words."""
    if not status.strip():
        return 0
    try:
        parsed = json.loads(status)
    except ValueError:
        raise ContainerRuntimeError(status.decode(errors="replace").strip()) from None
    if parsed.get("status") == "Success":
        return 0
    for cause in (parsed.get("details") or {}).get("causes") or ():
        if cause.get("reason") == "ExitCode":
            with contextlib.suppress(TypeError, ValueError):
                return int(cause.get("message"))
    raise ContainerRuntimeError(str(parsed.get("message") or status.decode(errors="replace")))


class _Session:
    """One streaming-server connection and the channels opened on it, as client-go's v4 client
    opens them: error first (never written to: closed at once), then the ones asked for."""

    def __init__(self, connection: SpdyConnection, streams: dict[str, int]) -> None:
        self.connection = connection
        self.streams = streams

    @classmethod
    async def open(cls, url: str, kinds: Sequence[str]) -> _Session:
        connection = await SpdyConnection.connect(url, [PROTOCOL])
        streams = {}
        try:
            for kind in ("error", *kinds):
                streams[kind] = await connection.open(kind)
            for stream_id in streams.values():
                await connection.replied(stream_id)
            await connection.send(streams["error"], b"", fin=True)
        except BaseException:
            await connection.close()
            raise
        return cls(connection, streams)

    async def status(self) -> int:
        """The exit code its final Status gives, once its output has ended."""
        return exit_code(await self.connection.read_all(self.streams["error"]))


def channels(streams: StreamOptions) -> list[str]:
    """The channels a call with these options opens: stderr only without a terminal, resize only
    with one."""
    wanted = ["stdin"] if streams.stdin else []
    wanted += ["stdout"] if streams.stdout else []
    wanted += ["stderr"] if streams.stderr and not streams.tty else []
    wanted += ["resize"] if streams.tty else []
    return wanted


class CriProcess:
    """An exec'd command or an attached container on the runtime's streaming server: its channels
    on one connection, or (an attach with stdin) stderr on a second one."""

    def __init__(
        self,
        sessions: Sequence[_Session],
        tty: bool,
        forward_stdin_end: bool = True,
        exit_code: Callable[[], Awaitable[int | None]] | None = None,
    ) -> None:
        self._sessions = list(sessions)
        self._channel = {kind: s for s in self._sessions for kind in s.streams if kind != "error"}
        self._exit_code = exit_code
        self._tty = tty
        self._stdin_closed = "stdin" not in self._channel
        self._forward_stdin_end = forward_stdin_end

    @classmethod
    async def open(
        cls,
        url: str,
        streams: StreamOptions,
        forward_stdin_end: bool = True,
        exit_code: Callable[[], Awaitable[int | None]] | None = None,
        stderr_url: str | None = None,
    ) -> CriProcess:
        """The process's channels at `url`, stderr at `stderr_url` when given (a call of its own
        that asked for stderr alone). Without `forward_stdin_end` the end of stdin is not passed
        on (the stdin stream stays open). `exit_code`, when given, says how the process ended
        once its output has (an attach's Status says only that the attach went well); None: it
        runs on."""
        wanted = channels(streams)
        if stderr_url is None:
            session = await _Session.open(url, wanted)
            return cls([session], streams.tty, forward_stdin_end, exit_code)
        # stderr's first: its streams accepted, the runtime attaches it at once, well before the
        # other connection is set up and the caller's stdin reaches the process through it.
        stderr = await _Session.open(stderr_url, ["stderr"])
        try:
            main = await _Session.open(url, [k for k in wanted if k != "stderr"])
        except BaseException:
            await stderr.connection.close()
            raise
        return cls([main, stderr], streams.tty, forward_stdin_end, exit_code)

    async def _send(self, kind: str, data: bytes, fin: bool = False) -> None:
        session = self._channel[kind]
        await session.connection.send(session.streams[kind], data, fin)

    @property
    def tty(self) -> bool:
        return self._tty

    async def write_stdin(self, data: bytes) -> None:
        if not self._stdin_closed and data:
            await self._send("stdin", data)

    async def close_stdin(self) -> None:
        if self._stdin_closed:
            return
        if self._tty:
            await self.write_stdin(_TERMINAL_EOF)
        elif self._forward_stdin_end:
            await self._send("stdin", b"", fin=True)
        self._stdin_closed = True

    async def resize(self, size: TerminalSize) -> None:
        if "resize" not in self._channel or size.width <= 0 or size.height <= 0:
            return
        message = json.dumps({"Width": size.width, "Height": size.height}).encode()
        await self._send("resize", message)

    async def output(self) -> AsyncIterator[ExecOutput]:
        queue: asyncio.Queue[ExecOutput | None] = asyncio.Queue()

        async def pump(kind: str) -> None:
            session = self._channel[kind]
            while (data := await session.connection.read(session.streams[kind])) is not None:
                queue.put_nowait(ExecOutput(kind, data))
            queue.put_nowait(None)

        outputs = [kind for kind in ("stdout", "stderr") if kind in self._channel]
        pumps = [asyncio.create_task(pump(kind)) for kind in outputs]
        try:
            ended = 0
            while ended < len(pumps):
                item = await queue.get()
                if item is None:
                    ended += 1
                else:
                    yield item
        finally:
            for task in pumps:
                task.cancel()
        codes = [await session.status() for session in self._sessions]
        code: int | None = next((c for c in codes if c), 0)
        if self._exit_code is not None:
            code = await self._exit_code()
        if code is not None:
            yield ExecOutput("", b"", code)

    async def close(self) -> None:
        for session in self._sessions:
            await session.connection.close()


async def process_output(
    opening: Awaitable[CriProcess], stdin: bytes | None
) -> AsyncIterator[ExecOutput]:
    """The output of the process being opened, then its exit code, after `stdin` (if any) is
    written to it and closed (the runtime's exec_stream and attach_stream)."""
    process = await opening
    try:
        if stdin is not None:
            await process.write_stdin(stdin)
            await process.close_stdin()
        async for item in process.output():
            yield item
    finally:
        await process.close()
