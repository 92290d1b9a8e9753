"""Paths that name no resource (k8s.io/apiserver/pkg/endpoints/discovery, routes/openapi.go,
healthz): /version, the discovery documents, the OpenAPI documents (with their hash as ETag, so
kubectl's cache revalidates cheaply), /healthz, /livez and /readyz, and /metrics."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import prometheus_client
from aiohttp import web

from apiserver.endpoints.rest import discovery
from apiserver.endpoints.rest.request import NonResourceRequest
from apiserver.endpoints.rest.responses import json_response
from apiserver.endpoints.rest.status import method_not_allowed, not_acceptable, not_found_path
from podplane.apimachinery import openapi

# Whether the server is ready (its caches synced, etcd reachable): what /readyz reports.
Readiness = Callable[[], bool]
NonResourceHandler = Callable[[web.Request, NonResourceRequest], Awaitable[web.StreamResponse]]


@functools.cache
def _v2() -> tuple[bytes, str]:
    data = openapi.v2_document_json()
    return data, openapi.document_hash(openapi.v2_document())


@functools.cache
def _v3(group: str, version: str) -> tuple[bytes, str] | None:
    data = openapi.v3_document_json(group, version)
    doc = openapi.v3_document(group, version)
    if data is None or doc is None:
        return None
    return data, openapi.document_hash(doc)


def _document(request: web.Request, data: bytes, etag: str) -> web.Response:
    quoted = f'"{etag}"'
    if request.headers.get("If-None-Match") == quoted:
        return web.Response(status=304, headers={"ETag": quoted})
    return web.Response(
        body=data,
        content_type="application/json",
        headers={"ETag": quoted, "Cache-Control": "no-cache, private"},
    )


def _openapi(request: web.Request, path: str) -> web.Response:
    if path == "/openapi/v2":
        accept = request.headers.get("Accept", "")
        if "json" not in accept and "*/*" not in accept and accept:
            # client-go asks for the protobuf form first: only JSON is served.
            raise not_acceptable()
        return _document(request, *_v2())
    if path == "/openapi/v3":
        return json_response(openapi.v3_index())
    parts = path.removeprefix("/openapi/v3/").split("/")
    if parts[:1] == ["api"] and len(parts) == 2:
        found = _v3("", parts[1])
    elif parts[:1] == ["apis"] and len(parts) == 3:
        found = _v3(parts[1], parts[2])
    else:
        found = None
    if found is None:
        raise not_found_path()
    return _document(request, *found)


def health(ready: Readiness) -> Callable[[str], web.Response]:
    def check(path: str) -> web.Response:
        name = path.strip("/").split("/")[0]
        if name == "readyz" and not ready():
            return web.Response(status=500, text="[-]etcd failed: not ready\nreadyz check failed")
        return web.Response(text="ok", content_type="text/plain")

    return check


def nonresource_handler(ready: Readiness) -> NonResourceHandler:
    check = health(ready)

    async def serve(request: web.Request, req: NonResourceRequest) -> web.StreamResponse:
        if req.method not in ("GET", "HEAD"):
            raise method_not_allowed(req.method)
        path = req.path.rstrip("/") or "/"
        if path == "/version":
            return json_response(discovery.version_info())
        if path == "/api":
            return json_response(discovery.api_versions())
        if path == "/apis":
            return json_response(discovery.api_group_list())
        if path.startswith("/api/"):
            parts = path.split("/")[2:]
            found = discovery.api_resource_list("", parts[0]) if len(parts) == 1 else None
            if found is None:
                raise not_found_path()
            return json_response(found)
        if path.startswith("/apis/"):
            parts = path.split("/")[2:]
            body = (
                discovery.api_group(parts[0])
                if len(parts) == 1
                else discovery.api_resource_list(parts[0], parts[1])
                if len(parts) == 2
                else None
            )
            if body is None:
                raise not_found_path()
            return json_response(body)
        if path.startswith("/openapi/"):
            return _openapi(request, path)
        if path.split("/")[1] in ("healthz", "livez", "readyz"):
            return check(path)
        if path == "/metrics":
            return web.Response(
                body=prometheus_client.generate_latest(), content_type="text/plain", charset="utf-8"
            )
        raise not_found_path()

    return serve
