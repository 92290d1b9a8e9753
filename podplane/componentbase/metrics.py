"""The Prometheus /metrics endpoint every component serves (component-base's metrics server), and
beside it /healthz, /livez and /readyz, as Kubernetes' components serve them next to /metrics.

Metrics live in prometheus_client's default registry, one per process; the endpoint serves it from
a daemon thread, so a scrape never waits for the event loop. A health check does: it is "ok" only
once the component says it is ready and its event loop runs a callback within HEALTH_TIMEOUT, so
a wedged loop is not reported healthy by the thread beside it. The compose cluster's container
health checks ask it with bash alone (docker-compose.yml), a few milliseconds of CPU where a
Python process took 30-40."""

from __future__ import annotations

import asyncio
import gzip
import logging
import selectors
import socket
import threading
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import prometheus_client
from prometheus_client import exposition as client_exposition
from prometheus_client.registry import Collector

from podplane.componentbase import exposition

log = logging.getLogger(__name__)

HEALTH_PATHS = frozenset({"/healthz", "/livez", "/readyz"})
HEALTH_TIMEOUT = 2.0
# Go's gzip default, as promhttp compresses (prometheus_client's 9 costs twice the time).
GZIP_LEVEL = 6

# Whether the component is healthy, asked on the endpoint's thread.
Health = Callable[[], bool]


def loop_health(
    loop: asyncio.AbstractEventLoop,
    ready: Callable[[], bool] = lambda: True,
    timeout: float = HEALTH_TIMEOUT,
) -> Health:
    """Healthy while `ready()` holds and `loop` runs a callback within `timeout` seconds."""

    def check() -> bool:
        if not ready() or loop.is_closed():
            return False
        turned = threading.Event()
        try:
            loop.call_soon_threadsafe(turned.set)
        except RuntimeError:  # the loop is closed
            return False
        return turned.wait(timeout)

    return check


class _QuietHandler(WSGIRequestHandler):
    """No line on stderr per request (a scrape every few seconds)."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def _metrics(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """The registry in the text format (as prometheus_client's WSGI app, which also offers
    OpenMetrics: Kubernetes' components do not), gzipped when the scraper accepts it."""
    method = environ["REQUEST_METHOD"]
    if method not in ("GET", "HEAD", "OPTIONS"):
        start_response("405 Method Not Allowed", [("Allow", "OPTIONS,GET")])
        return [f"# HTTP 405 Method Not Allowed: {method}; use OPTIONS or GET\n".encode()]
    if method == "OPTIONS":
        start_response("200 OK", [("Allow", "OPTIONS,GET")])
        return [b""]
    registry: Collector = prometheus_client.REGISTRY
    names = parse_qs(environ.get("QUERY_STRING", "")).get("name[]")
    if names:
        registry = prometheus_client.REGISTRY.restricted_registry(names)
    body = exposition.text(registry)
    headers = [("Content-Type", exposition.CONTENT_TYPE)]
    if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
        body = gzip.compress(body, compresslevel=GZIP_LEVEL)
        headers.append(("Content-Encoding", "gzip"))
    start_response("200 OK", headers)
    return [body if method == "GET" else b""]


def _app(health: Health | None) -> WSGIApplication:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if health is not None and environ.get("PATH_INFO") in HEALTH_PATHS:
            ok = health()
            # Kubernetes' healthz answers "ok", and a 500 naming what failed otherwise.
            start_response(
                "200 OK" if ok else "500 Internal Server Error",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("X-Content-Type-Options", "nosniff"),
                ],
            )
            return [b"ok" if ok else b"healthz check failed"]
        return _metrics(environ, start_response)

    return app


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


class _Server(client_exposition.ThreadingWSGIServer):
    """Serves until told to stop without polling for it: socketserver's serve_forever wakes
    twice a second to look for a shutdown request, some 0.2 ms of CPU a second in each idle
    component."""

    def serve_until_woken(self, wake: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is wake:
                        return
                    self.handle_request()  # the listening socket is readable: returns at once


class MetricsServer:
    """The /metrics endpoint (Prometheus text format), and the health paths when given a health
    check, on a daemon thread."""

    def __init__(self, host: str, port: int, health: Health | None = None) -> None:
        class Server(_Server):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        self._httpd = make_server(host, port, _app(health), Server, handler_class=_QuietHandler)
        self._wake, wake = socket.socketpair()
        self._thread = threading.Thread(
            target=self._serve, args=(wake,), name="metrics-endpoint", daemon=True
        )
        self._thread.start()

    def _serve(self, wake: socket.socket) -> None:
        with wake:
            self._httpd.serve_until_woken(wake)

    @property
    def port(self) -> int:
        return int(self._httpd.server_port)

    def close(self) -> None:
        if self._wake.fileno() != -1:  # not closed yet
            with self._wake:
                self._wake.send(b"x")
        self._thread.join(timeout=5)
        self._httpd.server_close()

    async def aclose(self) -> None:
        # close() waits for a scrape being answered to end: not on the event loop.
        await asyncio.to_thread(self.close)


def serve_metrics(address: str, health: Health | None = None) -> MetricsServer | None:
    """Starts the endpoint on `address` (see parse_bind_address), with the health paths when
    `health` is given; None if the address is empty. Raises RuntimeError if the address cannot be
    listened on."""
    parsed = parse_bind_address(address)
    if parsed is None:
        return None
    try:
        server = MetricsServer(*parsed, health=health)
    except OSError as e:
        raise RuntimeError(f"cannot serve metrics on {address}: {e.strerror or e}") from e
    log.info("metrics on http://%s:%d/metrics", parsed[0], server.port)
    return server
