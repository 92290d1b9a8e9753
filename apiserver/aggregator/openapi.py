"""The aggregated APIs' OpenAPI v3 documents in the apiserver's own (kube-aggregator's openapiv3
specProxier and its AggregationController, Kubernetes 1.31): for each APIService that names a
Service, its server's `/openapi/v3` root is downloaded as `system:aggregator` (through the
proxy's transport, the front-proxy certificate presented), every path it lists is added to
podplane's `/openapi/v3`, and a request for one of them (`/openapi/v3/apis/<group>/<version>`,
its hash query kept) is proxied to that server as the caller. Downloaded again a minute after a
success, and with back-off (5 ms doubling to 30 s here, an hour at most in Kubernetes) after a
failure; a server that answers its root 404 lists nothing (Kubernetes then converts its
`/openapi/v2`, which podplane does not). An unavailable APIService keeps the paths last
downloaded, as in Kubernetes, and their requests are answered 503 by the proxy."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from apiserver.aggregator.backends import Backend, Backends
from apiserver.aggregator.proxy import ProxyHandler
from apiserver.aggregator.transport import Transport
from apiserver.auth.user import UserInfo
from apiserver.registry.apiextensions.loop import DefinitionLoop
from apiserver.webhook.errors import ResolveError
from podplane.apimachinery.json_types import JSONObject

AGGREGATOR_USER = "system:aggregator"
DOWNLOAD_TIMEOUT = 60.0  # specDownloadTimeout
REFRESH_SECONDS = 60.0  # successfulUpdateDelay
ROOT = "/openapi/v3"

# GET of a path at a backend: (status, body).
Fetch = Callable[[Backend, str], Awaitable[tuple[int, bytes]]]


class DownloadFailed(Exception):
    """The root could not be downloaded: looked at again with back-off."""


def transport_fetch(transport: Transport) -> Fetch:
    """A GET through the proxy's transport, as `system:aggregator` (no groups)."""

    async def fetch(backend: Backend, path: str) -> tuple[int, bytes]:
        headers = [("Accept", "application/json")]
        answer = await transport.get(
            backend, path, AGGREGATOR_USER, DOWNLOAD_TIMEOUT, headers=headers
        )
        return answer.status, answer.body

    return fetch


class AggregatedOpenAPI:
    """The roots downloaded, by APIService; fed by the backends' changes."""

    def __init__(self, backends: Backends, fetch: Fetch, proxy: ProxyHandler | None) -> None:
        self.backends = backends
        self.fetch = fetch
        self.proxy = proxy
        self._paths: dict[str, dict[str, JSONObject]] = {}  # APIService -> its root's paths
        self.loop = DefinitionLoop("OpenAPIV3AggregationController", self.reconcile)
        backends.subscribe(self._changed)

    def _changed(self, before: Backend | None, after: Backend | None) -> None:
        if after is None:
            if before is not None:
                self._paths.pop(before.name, None)
            return
        self.loop.enqueue(after.name)

    async def run(self) -> None:
        for backend in self.backends.all():
            self.loop.enqueue(backend.name)
        await self.loop.run()

    async def reconcile(self, name: str) -> float | None:
        backend = self.backends.named(name)
        if backend is None:
            self._paths.pop(name, None)
            return None
        try:
            status, body = await self.fetch(backend, ROOT)
        except (aiohttp.ClientError, TimeoutError, OSError, ResolveError) as e:
            raise DownloadFailed(f"downloading {ROOT} of {name}: {e}") from e
        if status == 404:
            self._paths.pop(name, None)
            return REFRESH_SECONDS
        if status != 200:
            raise DownloadFailed(f"could not get list of group versions for APIService {name}")
        try:
            paths = json.loads(body).get("paths") or {}
        except (ValueError, AttributeError) as e:
            raise DownloadFailed(f"{ROOT} of {name}: {e}") from e
        self._paths[name] = {k: v for k, v in paths.items() if isinstance(v, dict)}
        return REFRESH_SECONDS

    def paths(self) -> dict[str, JSONObject]:
        """Every path the aggregated servers' roots list (getOpenAPIV3Root)."""
        merged: dict[str, JSONObject] = {}
        for paths in list(self._paths.values()):
            merged.update(paths)
        return merged

    def backend_of(self, path: str) -> Backend | None:
        """The backend whose root lists `path` (apis/<group>/<version>), if any."""
        for name, paths in list(self._paths.items()):
            if path in paths:
                return self.backends.named(name)
        return None

    async def serve(
        self, request: web.Request, path: str, user: UserInfo | None
    ) -> web.StreamResponse | None:
        """/openapi/v3/<path> of an aggregated server, proxied as the caller; None when no
        aggregated server lists it."""
        backend = self.backend_of(path.removeprefix(ROOT + "/"))
        if backend is None or self.proxy is None:
            return None
        return await self.proxy.serve(request, backend, user)
