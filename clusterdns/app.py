"""The DNS server assembled: the cluster's informers and cache, the query handler with its
upstream, the UDP/TCP listeners and the HTTP endpoints; started and stopped as one."""

from __future__ import annotations

import asyncio
import logging

from clusterdns import health, metrics
from clusterdns.kubernetes.cache import ClusterCache, ClusterWatch
from clusterdns.kubernetes.records import ZoneConfig
from clusterdns.options import Options
from clusterdns.server.forward import Forwarder
from clusterdns.server.handler import DNSHandler, TTLs
from clusterdns.server.transport import DNSServer
from podplane.client.clientset import Client
from podplane.componentbase.metrics import parse_bind_address

log = logging.getLogger(__name__)
VERSION = "0.1.0"


class ClusterDNS:
    def __init__(self, options: Options, client: Client) -> None:
        self.options = options
        self.cache = ClusterCache()
        self.watch = ClusterWatch(client, self.cache, watch_pods=options.pods == "verified")
        zone = ZoneConfig(
            domain=options.cluster_domain + ".", pods=options.pods, dns_service=options.dns_service
        )
        self.handler = DNSHandler(
            self.cache,
            zone,
            TTLs(options.ttl, options.negative_ttl),
            Forwarder(options.upstreams),
            synced=lambda: self.watch.synced,
        )
        self.dns = DNSServer(self.handler, options.bind_address, options.dns_port)
        self.stopping = False
        self.http: list[health.HTTPEndpoints] = []
        routes: list[tuple[str, str, health.Route]] = [
            (options.health_address, "/health", health.check(lambda: True)),
            (options.ready_address, "/ready", health.check(self.ready)),
            (options.metrics_address, "/metrics", health.metrics),
        ]
        by_address: dict[tuple[str, int], dict[str, health.Route]] = {}
        for address, path, route in routes:
            parsed = parse_bind_address(address)
            if parsed is not None:
                by_address.setdefault(parsed, {})[path] = route
        for (host, port), paths in by_address.items():
            self.http.append(health.HTTPEndpoints(host, port, paths))
        self._watching: asyncio.Task[None] | None = None
        metrics.BUILD_INFO.labels(VERSION, "podplane", "python").set(1)

    def ready(self) -> bool:
        """Serving, with the cluster's caches synced (CoreDNS's ready plugin)."""
        return self.watch.synced and not self.stopping

    async def start(self) -> None:
        self._watching = asyncio.create_task(self.watch.run(), name="cluster-watch")
        await self.dns.start()
        for endpoints in self.http:
            await endpoints.start()

    async def wait_synced(self) -> None:
        await self.watch.wait_synced()
        log.info(
            "caches synced: %d services, %d endpoint slices, %d namespaces",
            len(self.cache.services),
            len(self.cache.slices),
            len(self.cache.namespaces),
        )

    async def stop(self, lameduck: float = 0.0) -> None:
        """Not ready at once; answers on for `lameduck` seconds, then stops."""
        self.stopping = True
        if lameduck > 0:
            await asyncio.sleep(lameduck)
        await self.dns.stop()
        for endpoints in self.http:
            await endpoints.stop()
        if self._watching is not None:
            self._watching.cancel()
            await asyncio.gather(self._watching, return_exceptions=True)
