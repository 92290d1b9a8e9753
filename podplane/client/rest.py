"""A small client of the apiserver's Kubernetes REST door, for what its gRPC door does not serve:
the aggregated APIs (metrics.k8s.io from the metrics add-on) and subresources such as /scale
that are read and written as JSON (client-go's RESTClient). It proves itself with a component's
credentials (the cluster CA, a client certificate or a bearer token), over TLS; plain HTTP when
there are none (an apiserver with insecure serving). Errors carry the metav1.Status the
apiserver answered with."""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping

import aiohttp

from podplane.apimachinery.json_types import JSONObject
from podplane.client.credentials import Credentials, TokenFile

DEFAULT_TIMEOUT = 10.0


class RestError(Exception):
    """An answer other than 2xx: its HTTP code, the Status's reason and message."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason

    @property
    def not_found(self) -> bool:
        return self.code == 404


def _ssl_context(credentials: Credentials) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=credentials.ca_file)
    if credentials.cert_file and credentials.key_file:
        context.load_cert_chain(credentials.cert_file, credentials.key_file)
    return context


class RestClient:
    """Calls to https://`address` (HOST:PORT). Create and use it inside the event loop."""

    def __init__(
        self,
        address: str,
        credentials: Credentials | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        agent: str | None = None,
    ) -> None:
        self.base = f"{'https' if credentials else 'http'}://{address}"
        self.credentials = credentials
        self.timeout = timeout
        self.agent = agent
        self._token_file = (
            TokenFile(credentials.token_file) if credentials and credentials.token_file else None
        )
        self._session: aiohttp.ClientSession | None = None

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.agent:
            headers["User-Agent"] = self.agent
        source = self.credentials.token_source if self.credentials else None
        token = self._token_file.token() if self._token_file else None
        if source is not None:
            token = source.token()
        if not token and self.credentials and self.credentials.token:
            token = self.credentials.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            ssl_context = _ssl_context(self.credentials) if self.credentials else False
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=ssl_context), trust_env=False
            )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: JSONObject | None = None,
    ) -> JSONObject:
        """The JSON object the apiserver answers `method` `path` with; RestError otherwise."""
        server_name = self.credentials.tls_server_name if self.credentials else None
        data = None if body is None else json.dumps(body)
        headers = self._headers()
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self._open().request(
            method,
            self.base + path,
            params=params,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            server_hostname=server_name,
        ) as response:
            text = await response.text()
            try:
                decoded = json.loads(text) if text else {}
            except json.JSONDecodeError:
                decoded = {}
            if not isinstance(decoded, dict):
                decoded = {}
            if response.status == 401 and self.credentials and self.credentials.token_source:
                self.credentials.token_source.unauthorized()  # the next request gets a new one
            if response.status >= 300:
                message = decoded.get("message")
                raise RestError(
                    response.status,
                    str(decoded.get("reason", "")),
                    str(message) if message else f"the server answered {response.status}: {text}",
                )
            return decoded

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> JSONObject:
        return await self.request("GET", path, params=params)

    async def put(self, path: str, body: JSONObject) -> JSONObject:
        return await self.request("PUT", path, body=body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
