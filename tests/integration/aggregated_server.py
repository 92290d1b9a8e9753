"""A small aggregated API server for the integration tests, as a real one (sample-apiserver,
metrics-server) is reached: HTTPS on the host's own address (an EndpointSlice may not name a
loopback address, as Kubernetes validates it) with its own CA made in the test and a serving
certificate for <service>.<namespace>.svc; it requires a client certificate signed by the
front-proxy CA whose common name is an allowed name (headerrequest's
NewDynamicVerifyOptionsSecure and allowed-names check), and only then believes X-Remote-User
and X-Remote-Group. It serves wardle.example.com/v1alpha1's flunders: discovery (aggregated
at /apis when asked for, with an ETag; legacy at /apis/<group>/<version>), a list (or a Table,
when asked) whose one row says who asked, a watch that streams one event and holds the
connection until the test lets it go, a WebSocket that echoes, an OpenAPI v3 root and document,
and records every request's headers."""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web
from cryptography import x509
from cryptography.x509.oid import NameOID

from apiserver.options.advertise import default_advertise_address
from podplane.componentbase import pki

GROUP = "wardle.example.com"
VERSION = "v1alpha1"
RESOURCE_LIST = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": f"{GROUP}/{VERSION}",
    "resources": [
        {
            "name": "flunders",
            "singularName": "flunder",
            "namespaced": True,
            "kind": "Flunder",
            "verbs": ["get", "list", "watch"],
            "shortNames": ["fl"],
        }
    ],
}


# Its /apis in aggregated discovery (apidiscovery.k8s.io/v2), with the ETag it is served with.
AGGREGATED_KIND = "APIGroupDiscoveryList"
AGGREGATED_TYPE = f"application/json;g=apidiscovery.k8s.io;v=v2;as={AGGREGATED_KIND}"
AGGREGATED_ETAG = '"wardle-1"'
FLUNDERS_DISCOVERY = {
    "resource": "flunders",
    "responseKind": {"group": "", "version": "", "kind": "Flunder"},
    "scope": "Namespaced",
    "singularResource": "flunder",
    "verbs": ["get", "list", "watch"],
    "shortNames": ["fl"],
}
AGGREGATED_DISCOVERY = {
    "kind": AGGREGATED_KIND,
    "apiVersion": "apidiscovery.k8s.io/v2",
    "metadata": {},
    "items": [
        {
            "metadata": {"name": GROUP},
            "versions": [
                {"version": VERSION, "resources": [FLUNDERS_DISCOVERY], "freshness": "Current"}
            ],
        }
    ],
}


# Its OpenAPI v3 root and the group/version's document: Flunder's schema, for kubectl explain.
OPENAPI = {
    "openapi": "3.0.0",
    "info": {"title": GROUP, "version": VERSION},
    # kubectl explain finds a resource's kind by a path of it that names its kind.
    "paths": {
        f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/flunders/{{name}}": {
            "get": {
                "x-kubernetes-group-version-kind": {
                    "group": GROUP,
                    "version": VERSION,
                    "kind": "Flunder",
                },
                "responses": {"200": {"description": "OK"}},
            }
        }
    },
    "components": {
        "schemas": {
            "com.example.wardle.v1alpha1.Flunder": {
                "type": "object",
                "description": "A flunder of the tests' backend.",
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {"seenBy": {"type": "string", "description": "Who asked."}},
                    }
                },
                "x-kubernetes-group-version-kind": [
                    {"group": GROUP, "version": VERSION, "kind": "Flunder"}
                ],
            }
        }
    },
}
OPENAPI_ROOT = {
    "paths": {
        f"apis/{GROUP}/{VERSION}": {
            "serverRelativeURL": f"/openapi/v3/apis/{GROUP}/{VERSION}?hash=0123ABCD"
        }
    }
}


@dataclass
class Seen:
    """A request as the backend saw it."""

    path: str
    user: str
    groups: list[str]
    extra: dict[str, list[str]]
    authorization: str | None
    peer_common_name: str
    accept: str = ""
    if_none_match: str = ""


@dataclass
class AggregatedServer:
    ca_pem: bytes
    host: str
    port: int
    seen: list[Seen] = field(default_factory=list)
    release_watch: asyncio.Event = field(default_factory=asyncio.Event)


def _peer_common_name(request: web.Request) -> str:
    ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        return ""
    cert = x509.load_der_x509_certificate(der)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def make_certificates(folder: Path, server_name: str) -> None:
    """backend-ca.crt and backend.crt/.key for `server_name`, with podplane's PKI functions."""
    ca, ca_key = pki.ensure_ca(folder, "aggregated-api-ca", "backend-ca")
    spec = pki.CertSpec("backend", server_name, dns_names=(server_name,), server=True)
    pki.issue(folder, spec, ca, ca_key)


def application(state: AggregatedServer, allowed_names: tuple[str, ...]) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        peer = _peer_common_name(request)
        if peer not in allowed_names:
            return web.json_response({"message": f"{peer!r} is not allowed"}, status=401)
        extra: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            if name.lower().startswith("x-remote-extra-"):
                extra.setdefault(name[len("x-remote-extra-") :].lower(), []).append(value)
        user = request.headers.get("X-Remote-User", "")
        seen = Seen(
            request.path_qs,
            user,
            request.headers.getall("X-Remote-Group", []),
            extra,
            request.headers.get("Authorization"),
            peer,
            request.headers.get("Accept", ""),
            request.headers.get("If-None-Match", ""),
        )
        state.seen.append(seen)
        parts = [p for p in request.path.split("/") if p]
        if parts[-1:] == ["echo"] and request.headers.get("Upgrade", "").lower() == "websocket":
            return await _echo(request, user)
        if parts == ["apis", GROUP, VERSION]:
            return web.json_response(RESOURCE_LIST)
        if parts == ["apis"] and f"as={AGGREGATED_KIND}" in request.headers.get("Accept", ""):
            return _aggregated_discovery(request)
        if parts == ["openapi", "v3"]:
            return web.json_response(OPENAPI_ROOT)
        if parts == ["openapi", "v3", "apis", GROUP, VERSION]:
            return web.json_response(OPENAPI)
        if len(parts) == 6 and parts[3] == "namespaces" and parts[5] == "flunders":
            if request.query.get("watch") in ("1", "true"):
                return await _watch(request, state, user)
            return _list(request, parts[4], user)
        return web.json_response({"kind": "Status", "code": 404}, status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def _aggregated_discovery(request: web.Request) -> web.Response:
    headers = {"ETag": AGGREGATED_ETAG}
    if request.headers.get("If-None-Match") == AGGREGATED_ETAG:
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = AGGREGATED_TYPE
    return web.Response(body=json.dumps(AGGREGATED_DISCOVERY).encode(), headers=headers)


def _flunder(namespace: str, user: str) -> dict[str, object]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Flunder",
        "metadata": {"name": "flunder-1", "namespace": namespace, "resourceVersion": "1"},
        "spec": {"seenBy": user},
    }


def _list(request: web.Request, namespace: str, user: str) -> web.Response:
    item = _flunder(namespace, user)
    if "as=Table" in request.headers.get("Accept", ""):
        table = {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": "1"},
            "columnDefinitions": [
                {"name": "Name", "type": "string", "format": "name", "description": ""},
                {"name": "Seen By", "type": "string", "format": "", "description": ""},
            ],
            "rows": [{"cells": ["flunder-1", user], "object": item}],
        }
        return web.json_response(table)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "FlunderList",
        "metadata": {"resourceVersion": "1"},
        "items": [item],
    }
    return web.json_response(body)


async def _watch(request: web.Request, state: AggregatedServer, user: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    event = {"type": "ADDED", "object": _flunder(request.match_info["tail"].split("/")[3], user)}
    await response.write(json.dumps(event).encode() + b"\n")
    if "breakOff" in request.query:  # the server goes away in the middle of its answer
        assert request.transport is not None
        request.transport.abort()
        return response
    await state.release_watch.wait()
    await response.write_eof()
    return response


def host_address() -> str:
    """The host's address on its default route: what the EndpointSlice names."""
    address = default_advertise_address("0.0.0.0")
    assert address is not None, "these tests need an address other than loopback"
    return address


ECHO_PROTOCOL = "echo.podplane.test"


async def _echo(request: web.Request, user: str) -> web.StreamResponse:
    """A WebSocket that says who asked, then echoes every message."""
    ws = web.WebSocketResponse(protocols=(ECHO_PROTOCOL,))
    await ws.prepare(request)
    await ws.send_str(f"hello {user}")
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            await ws.send_str(message.data)
        elif message.type == aiohttp.WSMsgType.BINARY:
            await ws.send_bytes(message.data)
    return ws


async def start(
    folder: Path, front_proxy_ca: Path, server_name: str, allowed_names: tuple[str, ...]
) -> tuple[AggregatedServer, web.AppRunner]:
    """Starts the server on a free port of the host's address."""
    make_certificates(folder, server_name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "backend.crt", folder / "backend.key")
    context.load_verify_locations(front_proxy_ca)
    context.verify_mode = ssl.CERT_REQUIRED
    host = host_address()
    state = AggregatedServer((folder / "backend-ca.crt").read_bytes(), host, 0)
    runner = web.AppRunner(application(state, allowed_names), handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, host, 0, ssl_context=context)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    state.port = int(sockets[0].getsockname()[1])
    return state, runner
