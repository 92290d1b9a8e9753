"""Relays one remotecommand WebSocket (kubectl exec and attach, v4/v5 channel protocols) to an
interactive container session, the way kube-apiserver's stream translator and the kubelet's
WebSocket server behave: an empty message on the lowest writable channel once connected; the
client's stdin, end of stdin (v5) and resizes to the session; its stdout and stderr back; then the
final status on the error channel: Success, or for an exec that exited non-zero a Failure whose
ExitCode cause kubectl exits with (an attach always ends in Success, as Kubernetes'); a session
that could not start or failed is an InternalError with the kubelet's message, as `error_status`
says for each protocol. (Before v5 the kubelet refuses a session before the upgrade: the
apiserver's handler opens such a session first and answers a refusal with the kubelet's HTTP
error, `refusal_code` and `refusal_text`.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import grpc

from podplane.apimachinery.json_types import JSONObject
from podplane.streaming import remotecommand as rc
from podplane.streaming.sessions import KubeletStreamError

log = logging.getLogger(__name__)


class ContainerStreams(Protocol):
    """What the relay drives: sessions.ContainerSession, or a fake in tests."""

    exit_code: int | None

    async def send_stdin(self, data: bytes) -> None: ...

    async def resize(self, width: int, height: int) -> None: ...

    async def close_stdin(self) -> None: ...

    def __aiter__(self) -> AsyncIterator[tuple[str, bytes]]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class StreamOptions:
    """The request's stdin, stdout, stderr and tty query parameters."""

    stdin: bool = False
    stdout: bool = True
    stderr: bool = True
    tty: bool = False


# The kubelet's answers that refuse a session outright (kube-apiserver meets them as the answer
# to its upgrade, before any stream); its other failures come once the session is under way.
_REFUSALS = frozenset(
    {
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
    }
)
# How client-go's SPDY client reports an upgrade the kubelet refused, before the kubelet's text.
UPGRADE_REFUSED = "unable to upgrade connection: "
INTERNAL_ERROR = "Internal error occurred: "


def is_refusal(error: KubeletStreamError) -> bool:
    return error.code in _REFUSALS or error.message.startswith(UPGRADE_REFUSED)


def refusal_text(error: KubeletStreamError) -> str:
    """The kubelet's own answer to a refused session (the body of its 404 or 500)."""
    return error.message.removeprefix(UPGRADE_REFUSED)


def refusal_code(error: KubeletStreamError) -> int:
    """The kubelet's HTTP status for a refusal: 404 for a pod it does not have (and what the
    runtime says is not found), 500 for the rest (its streaming.WriteError)."""
    return 404 if error.code == grpc.StatusCode.NOT_FOUND else 500


def error_status(protocol: rc.ChannelProtocol, error: KubeletStreamError) -> JSONObject:
    """The final Status for a session the kubelet refused or failed. Before v5 the kubelet writes
    it itself: an InternalError of its message. From v5 on, kube-apiserver's stream translator,
    talking SPDY to the kubelet, reports every failure as an InternalError of the text its SPDY
    client saw: a refused upgrade's "unable to upgrade connection: <the kubelet's answer>", or the
    message of the kubelet's own Status, an InternalError already (so wrapped twice)."""
    if not protocol.stream_close:
        return rc.internal_error_status(error.message)
    if is_refusal(error):
        return rc.internal_error_status(UPGRADE_REFUSED + refusal_text(error))
    return rc.internal_error_status(INTERNAL_ERROR + error.message)


def first_message(protocol: rc.ChannelProtocol, options: StreamOptions) -> bytes | str:
    """The empty message that tells the client it is connected."""
    channel = rc.STDOUT if options.stdout else rc.STDERR if options.stderr else rc.ERROR
    return protocol.frame(channel, b"")


async def relay_remotecommand(
    protocol: rc.ChannelProtocol,
    options: StreamOptions,
    open_session: Callable[[], Awaitable[ContainerStreams]],
    receive: Callable[[], Awaitable[bytes | str | None]],
    send: Callable[[bytes | str], Awaitable[None]],
    attach: bool = False,
) -> None:
    """Runs one exec or attach over an accepted WebSocket: `receive` returns the client's next
    message (None once it has gone), `send` sends one; `open_session` starts the session (or
    returns one already started). Returns when it is over; the caller then closes the WebSocket
    (normal closure)."""
    await send(first_message(protocol, options))
    try:
        session = await open_session()
    except KubeletStreamError as e:
        await _send_status(protocol, send, error_status(protocol, e))
        return
    reader = asyncio.create_task(
        _client_to_session(protocol, options, receive, session), name="remotecommand-client"
    )
    try:
        status = await _session_to_client(protocol, options, session, send, attach)
    except BaseException:
        await session.close()
        raise
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
    if status is not None:
        await _send_status(protocol, send, status)


async def _send_status(
    protocol: rc.ChannelProtocol,
    send: Callable[[bytes | str], Awaitable[None]],
    status: JSONObject,
) -> None:
    message = protocol.status_message(status)
    if message is not None:
        await send(message)


async def _session_to_client(
    protocol: rc.ChannelProtocol,
    options: StreamOptions,
    session: ContainerStreams,
    send: Callable[[bytes | str], Awaitable[None]],
    attach: bool,
) -> JSONObject | None:
    """Relays the output; the final status, or None when the client went away first."""
    try:
        async for stream, data in session:
            if stream == "stderr" and options.stderr and not options.tty:
                await send(protocol.frame(rc.STDERR, data))
            elif options.stdout:
                await send(protocol.frame(rc.STDOUT, data))
    except KubeletStreamError as e:
        if e.code == grpc.StatusCode.CANCELLED:
            return None  # closed because the client went away
        return error_status(protocol, e)
    if attach or session.exit_code is None:
        return rc.success_status()
    if session.exit_code < 0:
        return rc.internal_error_status("the command's exit code is unknown")
    return rc.exit_status(session.exit_code)


async def _client_to_session(
    protocol: rc.ChannelProtocol,
    options: StreamOptions,
    receive: Callable[[], Awaitable[bytes | str | None]],
    session: ContainerStreams,
) -> None:
    decoder = rc.ChannelDecoder(protocol)
    try:
        while (message := await receive()) is not None:
            for event in decoder.feed(message):
                if isinstance(event, rc.Stdin) and options.stdin:
                    await session.send_stdin(event.data)
                elif isinstance(event, rc.StdinClosed) and options.stdin:
                    await session.close_stdin()
                elif isinstance(event, rc.Resize) and options.tty:
                    await session.resize(event.width, event.height)
    except rc.ProtocolError as e:
        log.info("remotecommand: %s", e)
    except KubeletStreamError:
        return  # the session has ended; the output side reports how
    await session.close()  # the client has gone (or broke the protocol): nobody reads any more
