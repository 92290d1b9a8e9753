"""A connected socket as the runtime's PodConnection (read, write, half-close, close) on asyncio
streams: a connection to a pod's port, or the engine's hijacked exec and attach connections."""

from __future__ import annotations

import asyncio
import contextlib
import socket

READ_SIZE = 64 * 1024


class SocketConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._write_closed = False

    @classmethod
    async def open(cls, sock: socket.socket) -> SocketConnection:
        """Takes over a connected socket (the caller no longer uses it)."""
        reader, writer = await asyncio.open_connection(sock=sock, limit=READ_SIZE)
        return cls(reader, writer)

    async def read(self) -> bytes:
        try:
            return await self._reader.read(READ_SIZE)
        except (ConnectionError, OSError):
            return b""  # reset by the other side: its end, as far as the reader is concerned

    async def write(self, data: bytes) -> None:
        """Raises ConnectionError once the other side has gone."""
        if self._write_closed or not data:
            return
        self._writer.write(data)
        await self._writer.drain()

    async def close_write(self) -> None:
        if self._write_closed:
            return
        self._write_closed = True
        with contextlib.suppress(OSError, RuntimeError):
            if self._writer.can_write_eof():
                self._writer.write_eof()

    async def close(self) -> None:
        self._write_closed = True
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
