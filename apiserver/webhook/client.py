"""POST a JSON body to a webhook as kube-apiserver's webhook client does, and read its answer.

One aiohttp session per client configuration (client-go's ClientManager caches a REST client per
configuration), so its keep-alive connections are reused by the calls that follow. A Service is
reached at `https://<name>.<namespace>.svc:<port><path>`: that name is what the certificate is
verified against and what SNI sends, while the connection goes to the address the caller's
ServiceResolver gives (kube-apiserver dials the resolved endpoint the same way). The whole call,
connection and body included, lives within one deadline (`asyncio.timeout`), and the URL says
it with `?timeout=<N>s`. Every failure is a `CallError` whose text is Go's for the same event."""

from __future__ import annotations

import asyncio
import contextvars
import json
import math
import os
import socket
import ssl
from collections import OrderedDict
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from apiserver.webhook.certificates import detailed_text, handshake_text, verification_text
from apiserver.webhook.config import ClientConfig, Target, target
from apiserver.webhook.decoding import decode_response
from apiserver.webhook.errors import (
    CallError,
    DeadlineExceeded,
    DialError,
    ResolveError,
    TLSError,
)
from apiserver.webhook.resolver import ServiceResolver, join_host_port
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.structural.field import go_quote

# The addresses connections of the current call were made to, for Go's `dial tcp ADDR: ...`.
_dialed: contextvars.ContextVar[list[tuple[str, int]]] = contextvars.ContextVar("webhook_dialed")


class ClientConfigError(Exception):
    """The configuration cannot make a client (no service or URL, an unusable CA bundle); the
    dispatchers say `could not get REST client: <this>`, naming the webhook first when
    `names_webhook` (Kubernetes' ErrCallingWebhook for a configuration without a usable URL)."""

    def __init__(self, text: str, names_webhook: bool = False) -> None:
        super().__init__(text)
        self.names_webhook = names_webhook


def _no_resolver(namespace: str, name: str, port: int) -> tuple[str, int]:
    raise ResolveError(f"no service resolver for service {go_quote(name)}")


class _Resolver(AbstractResolver):
    """The session's resolver: the configured Service's name through the ServiceResolver, any
    other name through the system's, remembering the address each connection goes to."""

    def __init__(self, config: ClientConfig, resolve: ServiceResolver) -> None:
        self._config = config
        self._resolve = resolve
        self._system = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        svc = self._config.service
        if svc is not None and host == svc.server_name and port == svc.port:
            address, endpoint_port = self._resolve(svc.namespace, svc.name, svc.port)
            infos: list[ResolveResult] = [
                {
                    "hostname": host,
                    "host": address,
                    "port": endpoint_port,
                    "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]
        else:
            infos = await self._system.resolve(host, port, family)
        dialed = _dialed.get(None)
        if dialed is not None and infos:
            dialed.append((infos[0]["host"], infos[0]["port"]))
        return infos

    async def close(self) -> None:
        await self._system.close()


def tls_context(ca_bundle: bytes) -> ssl.SSLContext:
    """Verifies the server against the bundle, or the system's roots when it is empty; speaks
    HTTP/1.1, as kube-apiserver does to webhooks (kubernetes#75791)."""
    try:
        if ca_bundle:
            context = ssl.create_default_context(cadata=ca_bundle.decode("ascii", "replace"))
        else:
            context = ssl.create_default_context()
    except ssl.SSLError as e:
        raise ClientConfigError(
            "unable to load root certificates: unable to parse bytes as PEM block"
        ) from e
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context


@dataclass
class _Pooled:
    """A configuration's session, the calls using it, and whether it has left the cache (it
    is closed when its last call ends)."""

    session: aiohttp.ClientSession
    calls: int = 0
    evicted: bool = False


class WebhookClient:
    """Calls webhooks. `resolve` maps a Service (namespace, name, port) to the address to
    connect to; configurations with a Service need it. Sessions are kept for the
    MAX_CONFIGURATIONS configurations used last, as client-go's ClientManager keeps clients."""

    MAX_CONFIGURATIONS = 200

    def __init__(self, resolve: ServiceResolver | None = None) -> None:
        self._resolve = resolve or _no_resolver
        self._pools: OrderedDict[ClientConfig, _Pooled] = OrderedDict()

    async def _acquire(self, config: ClientConfig) -> _Pooled:
        pooled = self._pools.get(config)
        if pooled is None:
            connector = aiohttp.TCPConnector(
                ssl=tls_context(config.ca_bundle),
                resolver=_Resolver(config, self._resolve),
                use_dns_cache=False,
            )
            session = aiohttp.ClientSession(connector=connector, trust_env=False)
            pooled = self._pools[config] = _Pooled(session)
            while len(self._pools) > self.MAX_CONFIGURATIONS:
                _, oldest = self._pools.popitem(last=False)
                oldest.evicted = True
                if oldest.calls == 0:
                    await oldest.session.close()
        self._pools.move_to_end(config)
        pooled.calls += 1
        return pooled

    async def _release(self, pooled: _Pooled) -> None:
        pooled.calls -= 1
        if pooled.evicted and pooled.calls == 0:
            await pooled.session.close()

    @property
    def configurations(self) -> int:
        """How many configurations have a session now."""
        return len(self._pools)

    async def post(self, config: ClientConfig, body: JSONObject, timeout: float) -> JSONObject:
        """POSTs `body` and returns the decoded answer, within `timeout` seconds; raises a
        CallError (or ClientConfigError) worded as Kubernetes' client words it."""
        try:
            call = target(config, math.ceil(timeout))
        except ValueError as e:
            raise ClientConfigError(str(e), names_webhook=True) from e
        pooled = await self._acquire(config)
        dialed: list[tuple[str, int]] = []
        token = _dialed.set(dialed)
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                async with pooled.session.post(
                    call.url,
                    data=json.dumps(body, separators=(",", ":")).encode(),
                    headers={
                        "Host": call.host_header,
                        "Content-Type": "application/json",
                        "Accept": "application/json, */*",
                    },
                    allow_redirects=False,
                ) as response:
                    payload = await response.read()
                    status, content_type = response.status, response.headers.get("Content-Type")
        except TimeoutError as e:
            raise DeadlineExceeded(_url_error(call, "context deadline exceeded")) from e
        except ResolveError as e:
            raise ResolveError(_url_error(call, str(e)), e.status) from e
        except aiohttp.ClientConnectorCertificateError as e:
            text = await _certificate_text(config, call, dialed, deadline, e.certificate_error)
            raise TLSError(_url_error(call, text)) from e
        except aiohttp.ClientConnectorSSLError as e:
            raise TLSError(_url_error(call, handshake_text(e.os_error))) from e
        except aiohttp.ClientConnectorError as e:
            raise DialError(_url_error(call, _dial_text(call, dialed, e.os_error))) from e
        except aiohttp.ServerDisconnectedError as e:
            raise CallError(_url_error(call, "EOF")) from e
        except aiohttp.ClientError as e:
            raise CallError(_url_error(call, str(e))) from e
        finally:
            _dialed.reset(token)
            await self._release(pooled)
        return decode_response(status, content_type, payload)

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pooled in pools:
            await pooled.session.close()


def _url_error(call: Target, text: str) -> str:
    """Go's *url.Error: `Post "URL": ERR`."""
    return f"Post {go_quote(call.url)}: {text}"


async def _certificate_text(
    config: ClientConfig,
    call: Target,
    dialed: list[tuple[str, int]],
    deadline: float,
    err: Exception,
) -> str:
    if not isinstance(err, ssl.SSLCertVerificationError):
        return f"tls: {err}"
    address = dialed[-1] if dialed else (call.host, call.port)
    try:
        async with asyncio.timeout_at(deadline):
            text = await detailed_text(err, config.ca_bundle, address, call.server_name)
    except TimeoutError:
        text = None
    return text if text is not None else verification_text(err)


def _dial_text(call: Target, dialed: list[tuple[str, int]], err: OSError) -> str:
    """Go's net.OpError: `dial tcp ADDR: connect: connection refused`."""
    address = join_host_port(*(dialed[-1] if dialed else (call.host, call.port)))
    if isinstance(err, socket.gaierror):
        return f"dial tcp: lookup {call.host}: no such host"
    if err.errno:
        return f"dial tcp {address}: connect: {os.strerror(err.errno).lower()}"
    return f"dial tcp {address}: {err}"
