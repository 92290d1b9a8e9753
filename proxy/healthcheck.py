"""kube-proxy's /healthz and /livez (pkg/proxy/healthcheck's ProxierHealthServer).

Healthy unless a change has waited for a sync longer than the health timeout (twice the sync
period): a sync that keeps failing, or never runs, turns it unhealthy; an idle proxier with
nothing queued stays healthy however long ago it last synced. queued_update() is called when a
change asks for a sync (the oldest such time is kept), updated() when a sync succeeded."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web

log = logging.getLogger(__name__)


def _rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


class ProxierHealth:
    def __init__(self, timeout: float, clock: Callable[[], float] = time.time) -> None:
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()  # syncs report from a worker thread
        self.last_updated = 0.0
        self.oldest_pending_queued: float | None = None

    def queued_update(self) -> None:
        with self._lock:
            if self.oldest_pending_queued is None:
                self.oldest_pending_queued = self._clock()

    def updated(self) -> None:
        with self._lock:
            self.last_updated = self._clock()
            self.oldest_pending_queued = None

    def status(self) -> tuple[bool, float, float]:
        """(healthy, last updated, now)."""
        with self._lock:
            now = self._clock()
            queued = self.oldest_pending_queued
            healthy = queued is None or now - queued < self.timeout
            return healthy, self.last_updated, now


class HealthzServer:
    """/healthz and /livez over plain HTTP, as kube-proxy serves them on :10256."""

    def __init__(self, health: ProxierHealth, host: str, port: int) -> None:
        self.health = health
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.port = port

    async def _handle(self, _: web.Request) -> web.Response:
        healthy, last_updated, now = self.health.status()
        body = {"lastUpdated": _rfc3339(last_updated), "currentTime": _rfc3339(now)}
        return web.Response(
            status=200 if healthy else 503,
            text=json.dumps(body),
            content_type="application/json",
            headers={"X-Content-Type-Options": "nosniff"},
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._handle)
        app.router.add_get("/livez", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as e:
            await self._runner.cleanup()
            raise RuntimeError(
                f"cannot serve /healthz on {self._host}:{self._port}: {e.strerror or e}"
            ) from e
        addresses = self._runner.addresses
        if addresses:
            self.port = int(addresses[0][1])
        log.info("/healthz on http://%s:%d/healthz", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
