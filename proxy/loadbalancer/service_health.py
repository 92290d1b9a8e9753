"""The health check node ports of LoadBalancer Services with externalTrafficPolicy Local
(pkg/proxy/healthcheck's ServiceHealthServer): on each, kube-proxy answers any request with 200
while the node has a ready endpoint of the Service and kube-proxy is healthy, else 503, so that
a load balancer sends the Service's traffic only to nodes that keep it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from aiohttp import web

from proxy.state.service_port import ServiceName

log = logging.getLogger(__name__)


def health_body(service: ServiceName, endpoints: int, healthy: bool) -> str:
    """kube-proxy's answer, byte for byte (its dedented template: tabs, no final newline)."""
    return (
        "{\n"
        '\t"service": {\n'
        f'\t\t"namespace": "{service.namespace}",\n'
        f'\t\t"name": "{service.name}"\n'
        "\t},\n"
        f'\t"localEndpoints": {endpoints},\n'
        f'\t"serviceProxyHealthy": {"true" if healthy else "false"}\n'
        "}"
    )


class ServiceHealthServer:
    def __init__(
        self,
        local_endpoints: Callable[[ServiceName], int],
        proxy_healthy: Callable[[], bool],
        host: str = "0.0.0.0",
    ) -> None:
        """`local_endpoints`: the Service's ready endpoints on this node; `proxy_healthy`:
        kube-proxy's own /healthz verdict."""
        self._local_endpoints = local_endpoints
        self._proxy_healthy = proxy_healthy
        self._host = host
        self._servers: dict[tuple[ServiceName, int], web.AppRunner] = {}

    @property
    def ports(self) -> dict[ServiceName, int]:
        return {service: port for service, port in self._servers}

    async def sync(self, wanted: Mapping[ServiceName, int]) -> None:
        """Listens on exactly the ports of `wanted` (SyncServices)."""
        for key in [k for k in self._servers if wanted.get(k[0]) != k[1]]:
            await self._servers.pop(key).cleanup()
        for service, port in wanted.items():
            if (service, port) not in self._servers:
                await self._listen(service, port)

    async def _listen(self, service: ServiceName, port: int) -> None:
        async def answer(_: web.Request) -> web.Response:
            count = self._local_endpoints(service)
            healthy = self._proxy_healthy()
            return web.Response(
                status=200 if count and healthy else 503,
                body=health_body(service, count, healthy).encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Content-Type-Options": "nosniff",
                    "X-Load-Balancing-Endpoint-Weight": str(count),
                },
            )

        app = web.Application()
        app.router.add_route("*", "/{path:.*}", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, port).start()
        except OSError as e:
            await runner.cleanup()
            log.error("%s: cannot serve health check node port %d: %s", service, port, e)
            return
        self._servers[(service, port)] = runner
        log.info("%s: health check node port %d", service, port)

    async def stop(self) -> None:
        await self.sync({})
