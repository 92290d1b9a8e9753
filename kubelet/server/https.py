"""The kubelet's HTTPS API server on --port (10250), the port the Node advertises in
status.daemonEndpoints: Kubernetes' kubelet API (kubelet/server/https_handlers.py) for
metrics-server, Prometheus and `kubectl get --raw /api/v1/nodes/<node>/proxy/...`. With the
kubelet's serving certificate every request is authenticated and authorized through the
apiserver (kubelet/server/auth.py); without one (a plaintext kubelet, as in the integration
tests' clusters) it serves plain HTTP to anyone, as the kubelet's AlwaysAllow mode does."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubelet.server import auth
from kubelet.server.auth import WebhookAuth
from podplane.componentbase.x509_subject import subject_from_peercert

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _plain(text: str, status: int) -> web.Response:
    """Go's http.Error: the text and a newline, as plain text."""
    response = web.Response(status=status, text=text + "\n", content_type="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _peer_subject(request: web.Request) -> str | None:
    transport = request.transport
    cert = transport.get_extra_info("peercert") if transport is not None else None
    return subject_from_peercert(cert) if cert else None


def auth_filter(webhook: WebhookAuth) -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            user = await webhook.authenticate(
                _peer_subject(request), request.headers.get("Authorization", "")
            )
        except Exception as e:  # noqa: BLE001 - the TokenReview failed: refused, as Kubernetes does
            log.error("unable to authenticate the request due to an error: %s", e)
            user = None
        if user is None:
            return _plain(auth.UNAUTHORIZED, 401)
        verb, subresource = auth.request_attributes(request.method, request.path)
        try:
            allowed = await webhook.authorize(user, verb, subresource)
        except Exception as e:  # noqa: BLE001 - the SubjectAccessReview failed
            text = auth.authorization_error(user.name, verb, subresource)
            log.error("%s: %s", text, e)
            return _plain(text, 500)
        if not allowed:
            return _plain(auth.forbidden(user.name, verb, subresource), 403)
        return await handler(request)

    return check


class HTTPSServer:
    """The kubelet API on `host:port` (port 0: any free port)."""

    def __init__(
        self,
        routes: list[web.RouteDef],
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        webhook: WebhookAuth | None,
    ) -> None:
        middlewares: list[Middleware] = (
            [auth_filter(webhook)] if webhook is not None and ssl_context else []
        )
        app = web.Application(middlewares=middlewares)
        app.add_routes(routes)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        self._host, self._port, self._ssl = host, port, ssl_context
        self._site: web.TCPSite | None = None

    @property
    def port(self) -> int:
        server = self._site._server if self._site else None
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else self._port

    async def start(self) -> None:
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self._host, self._port, ssl_context=self._ssl)
        try:
            await self._site.start()
        except OSError as e:
            raise RuntimeError(f"--port {self._port}: cannot listen: {e.strerror}") from e

    async def stop(self) -> None:
        await self._runner.cleanup()
