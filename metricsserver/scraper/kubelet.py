"""Asking a node's kubelet for `/metrics/resource` (metrics-server's kubelet client): at the
node's address of the first preferred type (InternalIP by default) and the port its status
advertises (daemonEndpoints.kubeletEndpoint), over HTTPS with the service account's token,
the kubelet's serving certificate checked against the cluster's CA (or not at all with
--kubelet-insecure-tls); a request taking over --kubelet-request-timeout fails."""

from __future__ import annotations

import ssl
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from metricsserver.scraper.decode import Batch, decode
from podplane.api.core.v1 import core_pb2

DEFAULT_PORT = 10250


class ScrapeError(Exception):
    """A node's kubelet could not be read."""


def node_address(node: core_pb2.Node, preferred: Sequence[str]) -> str:
    """The node's address of the first preferred type it has (NodeAddressResolver)."""
    for kind in preferred:
        for address in node.status.addresses:
            if address.type == kind and address.address:
                return address.address
    raise ScrapeError(f'node "{node.metadata.name}" has no address of types {list(preferred)}')


class KubeletClient:
    def __init__(
        self,
        token_file: Path | None,
        ca_file: Path | None,
        insecure: bool,
        preferred: Sequence[str],
        timeout: float,
    ) -> None:
        self.token_file = token_file
        self.preferred = tuple(preferred)
        self.timeout = timeout
        if insecure:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context), trust_env=False
        )

    def _headers(self) -> dict[str, str]:
        """The token read again each time, as the kubelet rotates it."""
        if self.token_file is None:
            return {}
        return {"Authorization": f"Bearer {self.token_file.read_text().strip()}"}

    async def scrape(self, node: core_pb2.Node) -> Batch:
        address = node_address(node, self.preferred)
        port = node.status.daemon_endpoints.kubelet_endpoint.port or DEFAULT_PORT
        host = f"[{address}]" if ":" in address else address
        url = f"https://{host}:{port}/metrics/resource"
        requested = time.time()
        try:
            async with self._session.get(
                url, headers=self._headers(), timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as response:
                text = await response.text()
                if response.status != 200:
                    raise ScrapeError(
                        f'request failed, status: "{response.status} {response.reason}"'
                    )
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise ScrapeError(f"Get {url!r}: {e}") from e
        try:
            return decode(text, requested, node.metadata.name)
        except ValueError as e:
            raise ScrapeError(f"failed parsing metrics: {e}") from e

    async def close(self) -> None:
        await self._session.close()
