"""The pod's end of a forwarded connection, for the port-forward protocols' unit tests: what the
server writes to it is kept, what the test puts in `to_client` is what the pod sends (b"" closes
its side)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class FakePodPort:
    """The pod's end of one connection."""

    port: int
    received: bytearray = field(default_factory=bytearray)
    to_client: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    write_closed: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> bytes:
        return await self.to_client.get()

    async def write(self, data: bytes) -> None:
        self.received += data

    async def close_write(self) -> None:
        self.write_closed.set()

    async def close(self) -> None:
        self.closed.set()
