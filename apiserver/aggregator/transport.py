"""Reaching an aggregated API server as kube-aggregator does with --enable-aggregator-routing:
its Service resolved to a ready endpoint of the Service's EndpointSlices (the webhook library's
resolver, apiserver/webhook/resolver.py), HTTPS to that address with the certificate verified
against the APIService's caBundle for `<service>.<namespace>.svc` (or not at all with
insecureSkipTLSVerify), the front-proxy client certificate presented. One aiohttp session per
trust (caBundle, insecure), so connections are reused across requests. Failures are worded as
Go's net/http and crypto/tls word them (the webhook library's texts)."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import aiohttp

from apiserver.aggregator.backends import Backend
from apiserver.aggregator.headers import auth_proxy_headers
from apiserver.webhook.certificates import detailed_text, handshake_text, verification_text
from apiserver.webhook.resolver import ServiceResolver, join_host_port

# How a TLS context gets the front proxy's client certificate (none: no certificate sent).
ClientCertificate = Callable[[ssl.SSLContext], None]


@dataclass(frozen=True)
class Answer:
    """A backend's answer to a GET the aggregator makes itself."""

    status: int
    body: bytes
    content_type: str = ""
    etag: str = ""


# What the proxy answers for an APIService that is not Available.
UNAVAILABLE = Answer(503, b"service unavailable\n", "text/plain")


@dataclass(frozen=True)
class _Trust:
    ca_bundle: bytes
    insecure: bool


def tls_context(
    ca_bundle: bytes, insecure: bool, client_certificate: ClientCertificate | None
) -> ssl.SSLContext:
    """The backend verified against `ca_bundle` (the system's roots when empty), or not at all
    when `insecure`; HTTP/1.1 only, as kube-aggregator's proxy transport speaks it."""
    if insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_bundle:
        context = ssl.create_default_context(cadata=ca_bundle.decode("ascii", "replace"))
    else:
        context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    if client_certificate is not None:
        client_certificate(context)
    return context


class Transport:
    """Sessions to backends, and where a backend is now."""

    def __init__(
        self, resolve: ServiceResolver, client_certificate: ClientCertificate | None = None
    ) -> None:
        self._resolve = resolve
        self._client_certificate = client_certificate
        self._sessions: dict[_Trust, aiohttp.ClientSession] = {}

    def resolve(self, backend: Backend) -> tuple[str, int]:
        """A ready endpoint's address and port; raises the resolver's ResolveError."""
        return self._resolve(backend.namespace, backend.service, backend.port)

    def session(self, ca_bundle: bytes, insecure: bool) -> aiohttp.ClientSession:
        """The session of this trust: answers are passed on as they come (never decompressed),
        redirects are not followed."""
        trust = _Trust(ca_bundle, insecure)
        session = self._sessions.get(trust)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                ssl=tls_context(ca_bundle, insecure, self._client_certificate),
                use_dns_cache=False,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                trust_env=False,
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding", "User-Agent"),
            )
            self._sessions[trust] = session
        return session

    def backend_session(self, backend: Backend) -> aiohttp.ClientSession:
        return self.session(backend.ca_bundle, backend.insecure_skip_tls_verify)

    async def get(
        self,
        backend: Backend,
        path: str,
        user: str,
        timeout: float,
        *,
        groups: Iterable[str] = (),
        headers: Iterable[tuple[str, str]] = (),
    ) -> Answer:
        """GET `path` of the backend as `user` (the aggregator's own requests: discovery, the
        OpenAPI documents), through the proxy's transport; answered 503 as the proxy answers
        while the APIService is not Available. Raises aiohttp's errors, TimeoutError and the
        resolver's ResolveError."""
        if not backend.available:
            return UNAVAILABLE
        url = f"https://{join_host_port(*self.resolve(backend))}{path}"
        async with self.backend_session(backend).get(
            url,
            headers=auth_proxy_headers(headers, user, groups, {}),
            server_hostname=backend.server_name,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            return Answer(
                response.status,
                await response.read(),
                response.headers.get("Content-Type", ""),
                response.headers.get("ETag", ""),
            )

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()


async def failure_text(
    e: BaseException, address: tuple[str, int], server_name: str, ca_bundle: bytes
) -> str:
    """Go's text for a request to `address` that got no answer (a dial, TLS or read error)."""
    if isinstance(e, TimeoutError):
        return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
    if isinstance(e, aiohttp.ClientConnectorCertificateError):
        err = e.certificate_error
        if isinstance(err, ssl.SSLCertVerificationError):
            detailed = await detailed_text(err, ca_bundle, address, server_name)
            return detailed if detailed is not None else verification_text(err)
        return f"tls: {err}"
    if isinstance(e, aiohttp.ClientConnectorSSLError):
        return handshake_text(e.os_error)
    if isinstance(e, aiohttp.ClientConnectorError):
        err_no = e.os_error.errno
        where = join_host_port(*address)
        if isinstance(e.os_error, socket.gaierror) or not err_no:
            return f"dial tcp {where}: {e.os_error}"
        return f"dial tcp {where}: connect: {os.strerror(err_no).lower()}"
    if isinstance(e, aiohttp.ServerDisconnectedError):
        return "EOF"
    return str(e)
