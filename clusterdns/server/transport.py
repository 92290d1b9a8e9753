"""The listeners: UDP datagrams and TCP connections (two-byte length before each message, several
queries per connection, closed when idle), each query handled in a task of its own."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import Protocol, cast

log = logging.getLogger(__name__)
TCP_IDLE_TIMEOUT = 10.0


class QueryHandler(Protocol):
    async def handle(self, wire: bytes, proto: str, family: str = "1") -> bytes | None: ...


def _family(address: tuple[str, int] | tuple[str, int, int, int]) -> str:
    return "2" if ":" in address[0] else "1"


class _UDPProtocol(asyncio.DatagramProtocol):
    def __init__(self, handler: QueryHandler) -> None:
        self.handler = handler
        self.transport: asyncio.DatagramTransport | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A datagram endpoint's transport (not a DatagramTransport subclass before Python 3.12).
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(data, addr))
        self._tasks.add(task)  # held until done: a bare task may be collected mid-flight
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            out = await self.handler.handle(data, "udp", _family(addr))
        except Exception:  # a bug must not end the listener
            log.exception("query from %s failed", addr[0])
            return
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)


class DNSServer:
    """UDP and TCP on host:port (port 0: one free port, the same for both)."""

    def __init__(self, handler: QueryHandler, host: str = "0.0.0.0", port: int = 53) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._tcp = await asyncio.start_server(
            self._connection, self.host, self.port, family=family, reuse_address=True
        )
        self.port = self._tcp.sockets[0].getsockname()[1]
        self._udp, _ = await loop.create_datagram_endpoint(
            lambda: _UDPProtocol(self.handler), local_addr=(self.host, self.port), family=family
        )
        log.info("serving DNS on %s port %d (UDP and TCP)", self.host, self.port)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        family = _family(writer.get_extra_info("peername") or ("", 0))
        try:
            while True:
                async with asyncio.timeout(TCP_IDLE_TIMEOUT):
                    header = await reader.readexactly(2)
                (length,) = struct.unpack("!H", header)
                async with asyncio.timeout(TCP_IDLE_TIMEOUT):
                    data = await reader.readexactly(length)
                out = await self.handler.handle(data, "tcp", family)
                if out is None:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:  # a bug must not end the listener
            log.exception("TCP query failed")
        finally:
            writer.close()
