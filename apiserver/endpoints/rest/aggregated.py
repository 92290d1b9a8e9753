"""The REST door's way to aggregated APIs (kube-aggregator's proxy handlers, installed in front
of the apiserver's own): a request under /apis/<group>/<version> whose APIService names a
Service is proxied to it once the filters before this one have authenticated, authorized and
admitted it to flow control; every other request goes on to podplane's own handlers."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from apiserver.aggregator.backends import Backend, Backends
from apiserver.aggregator.proxy import SERVICE_UNAVAILABLE, ProxyHandler, http_error
from apiserver.endpoints.rest.filters import USER, Handler, parsed
from apiserver.endpoints.rest.request import ResourceRequest


def backend_for(backends: Backends, request: web.Request) -> Backend | None:
    """The backend serving the request's group/version (/apis/<group>/<version>...), if any."""
    req = parsed(request)
    if isinstance(req, ResourceRequest):
        return backends.get(req.group, req.version) if req.group else None
    parts = [p for p in req.path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "apis":
        return backends.get(parts[1], parts[2])
    return None


def proxying(backends: Backends, proxy: ProxyHandler | None) -> Middleware:
    """The innermost filter: aggregated requests to their backend (without a proxy, as in
    in-process tests without aggregation, answered 503 `service unavailable`)."""

    @web.middleware
    async def to_backend(request: web.Request, handler: Handler) -> web.StreamResponse:
        backend = backend_for(backends, request)
        if backend is None:
            return await handler(request)
        if proxy is None:
            return http_error(SERVICE_UNAVAILABLE, 503)
        return await proxy.serve(request, backend, request[USER])

    return to_backend
