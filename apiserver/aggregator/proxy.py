"""The aggregation layer's proxy (kube-aggregator handler_proxy.go, with apimachinery's
UpgradeAwareHandler and httputil.ReverseProxy under it): a request for an aggregated
group/version, once podplane has authenticated and authorized it, goes to the APIService's
Service over TLS with the front-proxy client certificate and the X-Remote-* headers naming the
user; the answer is passed back as it comes (a watch streams). An APIService not Available, or
whose Service has no ready endpoint, is answered 503 `service unavailable`, and a backend that
cannot be reached 503 with Go's error text, in plain text as Go's http.Error writes them.
A WebSocket upgrade is bridged message by message (apiserver/aggregator/upgrade.py); any other
upgrade (SPDY) is refused with a 400 Status."""

from __future__ import annotations

import logging
from urllib.parse import quote_plus, urlencode

import aiohttp
from aiohttp import web

from apiserver.aggregator.backends import Backend
from apiserver.aggregator.headers import HOP_BY_HOP, auth_proxy_headers
from apiserver.aggregator.transport import Transport, failure_text
from apiserver.aggregator.upgrade import is_websocket, proxy_websocket, refused
from apiserver.auth.user import UserInfo
from apiserver.webhook.errors import ResolveError
from apiserver.webhook.resolver import join_host_port

log = logging.getLogger(__name__)

# A discovery request (/apis/<group>/<version>) gets this long (NewRequestForProxy).
DISCOVERY_TIMEOUT = 5.0
SERVICE_UNAVAILABLE = "service unavailable"


def http_error(text: str, code: int) -> web.Response:
    """Go's http.Error: the text and a newline, as plain text, not sniffed."""
    response = web.Response(status=code, text=text + "\n", content_type="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def go_query(request: web.Request) -> str:
    """req.URL.Query().Encode(): the parameters sorted by key, escaped as QueryEscape."""
    items = sorted(request.query.items(), key=lambda kv: kv[0])
    return urlencode(items, quote_via=quote_plus)


def is_upgrade(request: web.Request) -> bool:
    """httpstream.IsUpgradeRequest: Connection names upgrade."""
    connection = ",".join(request.headers.getall("Connection", []))
    return "upgrade" in (t.strip().lower() for t in connection.split(","))


class ProxyHandler:
    """Proxies requests to backends through `transport`."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    async def serve(
        self, request: web.Request, backend: Backend, user: UserInfo | None
    ) -> web.StreamResponse:
        if not backend.available:
            return http_error(SERVICE_UNAVAILABLE, 503)
        if user is None:
            return http_error("missing user", 500)
        if is_upgrade(request) and not is_websocket(request):
            raise refused(backend, request.headers.get("Upgrade", ""))
        try:
            address = self.transport.resolve(backend)
        except ResolveError as e:
            log.error("error resolving %s/%s: %s", backend.namespace, backend.service, e)
            return http_error(SERVICE_UNAVAILABLE, 503)
        return await self._forward(request, backend, user, address)

    async def _forward(
        self,
        request: web.Request,
        backend: Backend,
        user: UserInfo,
        address: tuple[str, int],
    ) -> web.StreamResponse:
        query = go_query(request)
        url = f"https://{join_host_port(*address)}{request.rel_url.raw_path}"
        url += f"?{query}" if query else ""
        headers = auth_proxy_headers(
            request.headers.items(),
            user.name,
            sorted(user.groups),
            {k: v for k, v in user.extra},
        )
        if is_upgrade(request):
            return await proxy_websocket(request, self.transport, backend, url, headers, address)
        discovery = len(request.path.strip("/").split("/")) == 3
        timeout = aiohttp.ClientTimeout(total=DISCOVERY_TIMEOUT if discovery else None)
        body = await request.read() if request.body_exists else None
        session = self.transport.backend_session(backend)
        try:
            async with session.request(
                request.method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                server_hostname=backend.server_name,
                timeout=timeout,
            ) as upstream:
                return await _pass_back(request, upstream, backend)
        except (aiohttp.ClientError, TimeoutError) as e:
            text = await failure_text(e, address, backend.server_name, backend.ca_bundle)
            log.warning("proxying to %s: %s", backend.name, text)
            return http_error(text, 503)


async def _pass_back(
    request: web.Request, upstream: aiohttp.ClientResponse, backend: Backend
) -> web.StreamResponse:
    """The backend's answer, its status and headers (but hop-by-hop ones), its body passed on
    as each piece arrives. A backend that fails once the answer has begun has the client's
    connection cut, as Go's proxy aborts it, rather than the answer end as if complete."""
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    for name, value in upstream.headers.items():
        if name.lower() not in HOP_BY_HOP:
            response.headers.add(name, value)
    await response.prepare(request)
    try:
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
    except (aiohttp.ClientError, TimeoutError) as e:
        log.warning("proxying to %s: the answer broke off: %s", backend.name, e)
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response
