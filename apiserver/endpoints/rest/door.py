"""The REST front door, assembled: Kubernetes' HTTP API (kubectl, client-go, the official Python
client, operators) on its own TLS port, over the same resource verbs, authenticator, authorizer
and overload guard as the gRPC door. One aiohttp server on the apiserver's event loop; the port
asks for a client certificate but does not require one, so bearer tokens work on it too."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from apiserver.aggregator.assembly import Aggregation
from apiserver.aggregator.backends import Backends
from apiserver.auth.authenticator import Authenticator
from apiserver.auth.authorizer import Authorizer
from apiserver.endpoints.health import HealthChecks
from apiserver.endpoints.request import MAX_REQUEST_BYTES
from apiserver.endpoints.rest import aggregated as aggregated_apis
from apiserver.endpoints.rest import filters
from apiserver.endpoints.rest.handlers import ResourceHandlers
from apiserver.endpoints.rest.nonresource import nonresource_handler
from apiserver.endpoints.rest.responses import add_flow_control_headers, add_request_warnings
from apiserver.flowcontrol.max_inflight import MaxInflight
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness
from apiserver.options.secure_serving import SecureServing
from apiserver.registry.reviews import CreateOnlyAPI
from apiserver.registry.served import ServedResources
from apiserver.registry.serviceaccount.token import TokenRequests

log = logging.getLogger(__name__)


def tls_context(security: SecureServing) -> ssl.SSLContext:
    """The serving certificate, and client certificates verified against --client-ca-file when a
    client sends one (kube-apiserver's RequestClientCert: asked for, not required)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(security.cert_file, security.key_file)
    context.load_verify_locations(security.client_ca_file)
    context.verify_mode = ssl.CERT_OPTIONAL
    context.set_alpn_protocols(["http/1.1"])
    return context


def rest_application(
    apis: ServedResources,
    *,
    create_only: Mapping[str, CreateOnlyAPI[Any]],
    authorizer: Authorizer,
    flow_control: PriorityAndFairness | MaxInflight,
    security: SecureServing | None,
    health: HealthChecks,
    authenticator: Authenticator | None = None,
    tokens: TokenRequests | None = None,
    aggregation: Aggregation | None = None,
    external_address: str = "",
) -> web.Application:
    """The REST door's application. With `security`, callers are authenticated by
    `authenticator` (else the one `security` describes); `tokens`: the service accounts' token
    subresource, if served; `aggregation`: the aggregated APIs (their proxy, discovery and
    OpenAPI documents); `health`: the checks of /healthz, /livez and /readyz;
    `external_address`: HOST:PORT clients reach this door at (the issuer discovery's jwks_uri)."""
    if security is not None and authenticator is None:
        authenticator = security.authenticator()
    accounts = security.service_accounts if security is not None else None
    openid = accounts.openid_metadata(external_address) if accounts is not None else None
    backends = aggregation.backends if aggregation is not None else Backends()
    handlers = ResourceHandlers(
        apis,
        apis["nodes"].store,
        nonresource_handler(health, apis, aggregation, openid),
        create_only,
        tokens,
    )
    app = web.Application(
        client_max_size=MAX_REQUEST_BYTES,
        middlewares=[
            filters.admission_recording,
            filters.errors_as_status,
            filters.authentication(authenticator),
            filters.impersonation(authorizer),
            filters.request_info(apis.resolve),
            # Before the overload guard: a refused request is counted by its own metric only.
            filters.flow_control(flow_control),
            filters.metrics,
            filters.authorization(authorizer, lambda g, v: backends.get(g, v) is not None),
            aggregated_apis.proxying(backends, aggregation.proxy if aggregation else None),
        ],
    )
    app.router.add_route("*", "/{tail:.*}", handlers.__call__)
    # A deprecated custom resource version's warning, on whatever its requests are answered.
    app.on_response_prepare.append(add_request_warnings)
    app.on_response_prepare.append(add_flow_control_headers)
    return app


class RestServer:
    """The REST door's HTTPS server on `host:port` (port 0: any free port)."""

    def __init__(
        self, app: web.Application, host: str, port: int, security: SecureServing | None
    ) -> None:
        self._app = app
        self._host, self._port = host, port
        self._ssl = tls_context(security) if security else None
        # A client that goes cancels its request's handler (a watch or log stream ends).
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=5.0
        )
        self._site: web.TCPSite | None = None

    @property
    def port(self) -> int:
        server = self._site._server if self._site else None
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else self._port

    async def start(self) -> None:
        await self._runner.setup()
        self._site = web.TCPSite(
            self._runner, self._host, self._port, ssl_context=self._ssl, backlog=1024
        )
        await self._site.start()
        log.info("REST API on %s://%s:%d", "https" if self._ssl else "http", self._host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()
