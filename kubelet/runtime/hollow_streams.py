"""The hollow runtime's streaming side (streams.py), in memory: an interactive process behaves as
`cat` (its stdin comes back on stdout; the end of stdin ends it with exit code 0) and remembers
its terminal sizes; a pod port that listens echoes what it is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from kubelet.runtime.streams import TerminalSize
from kubelet.runtime.types import ExecOutput


class HollowProcess:
    def __init__(self, tty: bool) -> None:
        self._tty = tty
        self.resizes: list[TerminalSize] = []
        self.closed = False
        self._output: asyncio.Queue[ExecOutput | None] = asyncio.Queue()
        self._ended = False

    @property
    def tty(self) -> bool:
        return self._tty

    async def write_stdin(self, data: bytes) -> None:
        if not self._ended and data:
            self._output.put_nowait(ExecOutput("stdout", data))

    async def close_stdin(self) -> None:
        if not self._ended:
            self._ended = True
            self._output.put_nowait(ExecOutput("", b"", 0))
            self._output.put_nowait(None)

    async def resize(self, size: TerminalSize) -> None:
        if self._tty:
            self.resizes.append(size)

    async def output(self) -> AsyncIterator[ExecOutput]:
        while (item := await self._output.get()) is not None:
            yield item

    async def close(self) -> None:
        self.closed = True


class EchoConnection:
    """A connection to a pod port that sends back what it reads, until half-closed."""

    def __init__(self) -> None:
        self._data: asyncio.Queue[bytes] = asyncio.Queue()
        self.closed = False

    async def read(self) -> bytes:
        return await self._data.get()

    async def write(self, data: bytes) -> None:
        if data:
            self._data.put_nowait(data)

    async def close_write(self) -> None:
        self._data.put_nowait(b"")

    async def close(self) -> None:
        self.closed = True
