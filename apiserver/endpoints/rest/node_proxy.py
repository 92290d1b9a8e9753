"""GET (and POST, PUT, PATCH, DELETE, HEAD, OPTIONS) /api/v1/nodes/<name>/proxy/<path>: once
the caller is authorized for nodes/proxy, the request goes to the node's kubelet
(apiserver/registry/node/proxy.py) as the apiserver's kubelet client, its path after `proxy`
and its query, its body and headers but for hop-by-hop ones and the caller's Authorization; the
kubelet's answer comes back as it comes (a followed log streams). A kubelet that cannot be
reached is a 503 Status, as Kubernetes' proxy responder answers it."""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from apiserver import errors
from apiserver.aggregator.headers import HOP_BY_HOP
from apiserver.endpoints.rest.request import ResourceRequest
from apiserver.registry.generic.store import Store
from apiserver.registry.node import proxy
from apiserver.registry.pod import kubelet_client
from podplane.api.core.v1 import core_pb2

log = logging.getLogger(__name__)


def _kubelet_path(request: web.Request, req: ResourceRequest) -> str:
    """What follows /nodes/<name>/proxy in the path (kept as sent: escapes are the kubelet's)."""
    marker = f"/nodes/{req.name}/proxy"
    raw = request.rel_url.raw_path
    return raw[raw.index(marker) + len(marker) :] if marker in raw else "/"


async def serve(
    request: web.Request, req: ResourceRequest, nodes: Store[core_pb2.Node]
) -> web.StreamResponse:
    where = await proxy.location(nodes, req.name)
    url = where.url(_kubelet_path(request, req), request.rel_url.raw_query_string)
    headers = {
        k: v
        for k, v in request.headers.items()
        if k.lower() not in HOP_BY_HOP and k.lower() not in ("authorization", "host")
    }
    body = await request.read() if request.body_exists else None
    context = kubelet_client.https_context() if where.scheme == "https" else None
    connector = aiohttp.TCPConnector(ssl=context if context is not None else False)
    async with aiohttp.ClientSession(
        connector=connector, auto_decompress=False, trust_env=False
    ) as session:
        try:
            async with session.request(
                request.method,
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                server_hostname=where.node if context is not None else None,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
            ) as upstream:
                return await _pass_back(request, upstream)
        except (aiohttp.ClientConnectionError, TimeoutError) as e:
            raise errors.unavailable(f"error trying to reach service: {e}") from None


async def _pass_back(request: web.Request, upstream: aiohttp.ClientResponse) -> web.StreamResponse:
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    for name, value in upstream.headers.items():
        if name.lower() not in HOP_BY_HOP:
            response.headers.add(name, value)
    await response.prepare(request)
    try:
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
    except (aiohttp.ClientError, TimeoutError) as e:
        log.warning("proxying to the kubelet: the answer broke off: %s", e)
        if request.transport is not None:
            request.transport.close()
        return response
    await response.write_eof()
    return response
