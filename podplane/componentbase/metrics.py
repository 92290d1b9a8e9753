"""The Prometheus /metrics endpoint every component serves (component-base's metrics server).

Metrics live in prometheus_client's default registry, one per process; the endpoint serves it from
a daemon thread, so a scrape never waits for the event loop."""

from __future__ import annotations

import asyncio
import logging

import prometheus_client

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ the /metrics endpoint
def parse_bind_address(value: str) -> tuple[str, int] | None:
    """HOST:PORT ("0.0.0.0:8080", "[::]:8080", ":8080" = every address); "" disables (None)."""
    if not value:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f'"{value}" is not HOST:PORT (e.g. 0.0.0.0:8080; empty disables)')
    host = host.removeprefix("[").removesuffix("]") or "0.0.0.0"
    return host, int(port)


class MetricsServer:
    """The /metrics endpoint (Prometheus text format) on a daemon thread."""

    def __init__(self, host: str, port: int) -> None:
        self._httpd, self._thread = prometheus_client.start_http_server(port, addr=host)

    @property
    def port(self) -> int:
        return int(self._httpd.server_port)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    async def aclose(self) -> None:
        # shutdown() waits for the serving loop's next poll (up to 0.5 s): not on the event loop.
        await asyncio.to_thread(self.close)


def serve_metrics(address: str) -> MetricsServer | None:
    """Starts the endpoint on `address` (see parse_bind_address); None if it is empty.
    Raises RuntimeError if the address cannot be listened on."""
    parsed = parse_bind_address(address)
    if parsed is None:
        return None
    try:
        server = MetricsServer(*parsed)
    except OSError as e:
        raise RuntimeError(f"cannot serve metrics on {address}: {e.strerror or e}") from e
    log.info("metrics on http://%s:%d/metrics", parsed[0], server.port)
    return server
