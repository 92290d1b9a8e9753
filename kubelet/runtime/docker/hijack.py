"""The engine's hijacked connections (exec start and attach upgrade the HTTP connection to a raw
stream) taken over from the SDK, and Docker's multiplexed stream format on them.

The SDK hands back the connection's socket after parsing the response headers; its HTTP reader
may already hold output read past them (a shell's first prompt), which is kept, not lost."""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
from typing import Protocol

from kubelet.runtime.types import ContainerRuntimeError

# Without a terminal, each piece of output comes after an 8-byte header: the stream (1 stdout,
# 2 stderr), three zero bytes, the length (big-endian).
_HEADER = struct.Struct(">BxxxL")
_STREAMS = {0: "stdout", 1: "stdout", 2: "stderr"}


class HijackedSocket(Protocol):
    """What the SDK's attach_socket and exec_start(socket=True) return: the hijacked connection's
    socket.SocketIO (the socket itself is its `_sock`), or over TLS the socket itself."""

    def close(self) -> None: ...


class MultiplexedStream:
    """Splits Docker's multiplexed output into (stream name, data) pieces, whatever the chunks it
    arrives in."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        self._buffer += data
        pieces: list[tuple[str, bytes]] = []
        while len(self._buffer) >= _HEADER.size:
            stream, length = _HEADER.unpack_from(self._buffer)
            end = _HEADER.size + length
            if len(self._buffer) < end:
                break
            payload = self._buffer[_HEADER.size : end]
            self._buffer = self._buffer[end:]
            if payload:
                pieces.append((_STREAMS.get(stream, "stdout"), payload))
        return pieces


def take_over(sdk_socket: HijackedSocket) -> tuple[socket.socket, bytes]:
    """A socket of our own for the SDK's hijacked connection, and the bytes its HTTP reader had
    already read past the response headers. The SDK's objects are closed."""
    raw = getattr(sdk_socket, "_sock", sdk_socket)
    if not isinstance(raw, socket.socket) or isinstance(raw, ssl.SSLSocket):
        raise ContainerRuntimeError(
            "interactive streams need the Docker engine on a unix socket or plain TCP"
        )
    response = getattr(sdk_socket, "_response", None)
    reader = getattr(getattr(getattr(response, "raw", None), "_fp", None), "fp", None)
    raw.setblocking(False)
    leftover = b""
    if reader is not None:
        # Non-blocking: what the reader holds, and whatever the socket has right now.
        with contextlib.suppress(BlockingIOError, ValueError, OSError):
            leftover = reader.read1() or b""
    own = raw.dup()
    for obj in (reader, sdk_socket, raw):
        if obj is not None:
            with contextlib.suppress(OSError):
                obj.close()
    own.setblocking(True)
    return own, leftover
