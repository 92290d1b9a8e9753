"""The HTTP endpoints the kubelet's probes and Prometheus read (CoreDNS's health, ready and
prometheus plugins): GET /health (200 while the process serves), /ready (200 once the cluster's
caches have synced, 503 before and while stopping) and /metrics. A small HTTP/1.1 server on
asyncio streams: one request per connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

import prometheus_client

from podplane.componentbase import exposition

log = logging.getLogger(__name__)
REQUEST_TIMEOUT = 5.0
Route = Callable[[], tuple[int, str, bytes]]  # -> (status, content type, body)
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


def check(ok: Callable[[], bool]) -> Route:
    """200 "OK" when ok() holds, else 503."""
    return lambda: (200, "text/plain", b"OK") if ok() else (503, "text/plain", b"not ready")


def metrics() -> tuple[int, str, bytes]:
    return 200, exposition.CONTENT_TYPE, exposition.text(prometheus_client.REGISTRY)


class HTTPEndpoints:
    """GET on host:port for the given paths (port 0: a free one)."""

    def __init__(self, host: str, port: int, routes: Mapping[str, Route]) -> None:
        self.host, self.port, self.routes = host, port, dict(routes)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("%s on http://%s:%d", ", ".join(self.routes), self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
            method, target, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            route = self.routes.get(target.split("?", 1)[0])
            if route is None:
                status, ctype, body = 404, "text/plain", b"not found"
            elif method not in ("GET", "HEAD"):
                status, ctype, body = 405, "text/plain", b"method not allowed"
            else:
                status, ctype, body = route()
            writer.write(
                f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode("latin-1")
                + (body if method != "HEAD" else b"")
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        except ConnectionError:
            pass
        finally:
            writer.close()
