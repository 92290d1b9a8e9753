"""Paths that name no resource (k8s.io/apiserver/pkg/endpoints/discovery, routes/openapi.go,
healthz): /version, the discovery documents, the OpenAPI documents (with their hash as ETag, so
kubectl's cache revalidates cheaply), /healthz, /livez and /readyz, and /metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import prometheus_client
from aiohttp import web

from apiserver.aggregator.assembly import Aggregation
from apiserver.auth.serviceaccount import openid
from apiserver.endpoints.health import HealthChecks
from apiserver.endpoints.rest import aggregated_discovery, discovery, healthz, negotiation, openapi
from apiserver.endpoints.rest.filters import USER
from apiserver.endpoints.rest.request import NonResourceRequest
from apiserver.endpoints.rest.responses import json_response
from apiserver.endpoints.rest.status import method_not_allowed, not_found_path
from apiserver.registry.served import ServedResources
from podplane.componentbase import exposition

NonResourceHandler = Callable[[web.Request, NonResourceRequest], Awaitable[web.StreamResponse]]


def nonresource_handler(
    health: HealthChecks,
    served: ServedResources,
    aggregation: Aggregation | None = None,
    issuer: openid.OpenIDMetadata | None = None,
) -> NonResourceHandler:
    """`health`: the checks of /healthz, /livez and /readyz; `aggregation`: the aggregated APIs,
    listed in the discovery documents, their servers' OpenAPI v3 documents in /openapi/v3 (and
    proxied); `issuer`: the service account issuer discovery documents, if served."""
    documents = openapi.OpenAPIDocuments(served)
    aggregated = aggregation.backends if aggregation is not None else None
    aggregated_openapi = aggregation.openapi if aggregation is not None else None

    async def serve(request: web.Request, req: NonResourceRequest) -> web.StreamResponse:
        if req.method not in ("GET", "HEAD"):
            raise method_not_allowed(req.method)
        path = req.path.rstrip("/") or "/"
        if path == "/version":
            return json_response(discovery.version_info())
        if path in ("/api", "/apis"):
            version = negotiation.aggregated_discovery(request.headers.get("Accept", ""))
            if version is not None:
                entries = aggregation.discovery.entries() if aggregation is not None else ()
                return aggregated_discovery.answer(
                    request, served, version, path == "/api", entries
                )
        if path == "/api":
            return json_response(discovery.api_versions())
        if path == "/apis":
            backends = aggregated.all() if aggregated is not None else ()
            return json_response(discovery.api_group_list(served, backends))
        if path.startswith("/api/"):
            parts = path.split("/")[2:]
            found = discovery.api_resource_list(served, "", parts[0]) if len(parts) == 1 else None
            if found is None:
                raise not_found_path()
            return json_response(found)
        if path.startswith("/apis/"):
            parts = path.split("/")[2:]
            body = (
                discovery.api_group(
                    served, parts[0], aggregated.all() if aggregated is not None else ()
                )
                if len(parts) == 1
                else discovery.api_resource_list(served, parts[0], parts[1])
                if len(parts) == 2
                else None
            )
            if body is None:
                raise not_found_path()
            return json_response(body)
        if path.startswith("/openapi/") and aggregated_openapi is not None:
            if path == "/openapi/v3":
                index = documents.v3_index()
                return json_response(openapi.with_paths(index, aggregated_openapi.paths()))
            proxied = await aggregated_openapi.serve(request, path, request[USER])
            if proxied is not None:
                return proxied
        if path.startswith("/openapi/"):
            return openapi.serve(request, path, documents)
        if path.split("/")[1] in health:
            answer = await healthz.serve(health, path, request.query_string)
            if answer is not None:
                return answer
        if issuer is not None and path in (openid.CONFIG_PATH, openid.JWKS_PATH):
            config = path == openid.CONFIG_PATH
            return web.Response(
                body=issuer.config_json if config else issuer.keyset_json,
                headers={
                    "Content-Type": "application/json" if config else openid.JWKS_CONTENT_TYPE,
                    "Cache-Control": openid.CACHE_CONTROL,
                },
            )
        if path == "/metrics":
            return web.Response(
                body=exposition.text(prometheus_client.REGISTRY),
                headers={"Content-Type": exposition.CONTENT_TYPE},
            )
        raise not_found_path()

    return serve
