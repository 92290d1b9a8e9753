"""A real HTTPS webhook server on 127.0.0.1 for the client's tests: a CA and a serving
certificate for `hook.ns.svc` made with podplane's PKI code (cryptography), and an aiohttp app
whose paths answer as the tests need: /allow admits the review it is sent, /slow never answers
until the server stops, /garbage answers text that is not JSON, /boom a 500 with a text body,
/absent an AdmissionReview without a response, /deny a denial with a message and code 403,
/patch an allowing answer with a JSON patch that labels the object. It records each request's
path with its query, its Host header and the client's port (one port per connection)."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from podplane.apimachinery.json_types import JSONObject
from podplane.componentbase import pki

SERVER_NAME = "hook.ns.svc"


@dataclass
class Seen:
    path_qs: str
    host: str
    client_port: int


@dataclass
class WebhookServer:
    port: int
    ca_pem: bytes
    seen: list[Seen] = field(default_factory=list)


EXPIRED_AT = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def make_pki(directory: Path, expired: bool = False) -> tuple[bytes, Path, Path]:
    """The CA's PEM and the server's certificate and key files (the certificate valid until
    EXPIRED_AT when `expired`)."""
    ca, ca_key = pki.ensure_ca(directory, common_name="webhook-test-ca")
    spec = pki.CertSpec(
        "server", "webhook", dns_names=(SERVER_NAME,), ip_addresses=("127.0.0.1",), server=True
    )
    pki.issue(directory, spec, ca, ca_key)
    if expired:
        crt = x509.load_pem_x509_certificate((directory / "server.crt").read_bytes())
        key = serialization.load_pem_private_key((directory / "server.key").read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(crt.subject)
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(EXPIRED_AT - datetime.timedelta(days=30))
            .not_valid_after(EXPIRED_AT)
        )
        for extension in crt.extensions:
            builder = builder.add_extension(extension.value, extension.critical)
        expired_crt = builder.sign(ca_key, hashes.SHA256())
        (directory / "server.crt").write_bytes(expired_crt.public_bytes(serialization.Encoding.PEM))
    return (directory / "ca.crt").read_bytes(), directory / "server.crt", directory / "server.key"


def other_ca(directory: Path) -> bytes:
    """A CA that signed nothing the server has."""
    directory.mkdir()
    pki.ensure_ca(directory, common_name="some-other-ca")
    return (directory / "ca.crt").read_bytes()


def _app(server: WebhookServer, release: asyncio.Event) -> web.Application:
    async def record(request: web.Request) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        server.seen.append(Seen(request.path_qs, request.host, peer[1] if peer else 0))

    async def allow(request: web.Request) -> web.Response:
        await record(request)
        review = await request.json()
        uid = review["request"]["uid"]
        return web.json_response(
            {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": {"uid": uid, "allowed": True, "warnings": ["seen"]},
            }
        )

    async def answer(request: web.Request, response: JSONObject) -> web.Response:
        await record(request)
        review = await request.json()
        response["uid"] = review["request"]["uid"]
        return web.json_response(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}
        )

    async def deny(request: web.Request) -> web.Response:
        status = {"code": 403, "message": "no latest tags"}
        return await answer(request, {"allowed": False, "status": status})

    async def patch(request: web.Request) -> web.Response:
        ops = [{"op": "add", "path": "/metadata/labels", "value": {"patched": "yes"}}]
        encoded = base64.b64encode(json.dumps(ops).encode()).decode()
        return await answer(request, {"allowed": True, "patch": encoded, "patchType": "JSONPatch"})

    async def slow(request: web.Request) -> web.Response:
        await record(request)
        await release.wait()
        return web.json_response({})

    async def garbage(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text="this is not JSON", content_type="text/plain")

    async def boom(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(status=500, text="boom\n", content_type="text/plain")

    async def absent(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"})

    app = web.Application()
    for path, handler in (
        ("/allow", allow),
        ("/slow", slow),
        ("/garbage", garbage),
        ("/boom", boom),
        ("/absent", absent),
        ("/deny", deny),
        ("/patch", patch),
    ):
        app.router.add_post(path, handler)
    return app


@asynccontextmanager
async def serving(directory: Path, expired: bool = False) -> AsyncIterator[WebhookServer]:
    ca_pem, crt, key = make_pki(directory, expired)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    release = asyncio.Event()
    server = WebhookServer(port=0, ca_pem=ca_pem)
    runner = web.AppRunner(_app(server, release), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    address = runner.addresses[0]
    server.port = int(address[1])
    try:
        yield server
    finally:
        release.set()
        await runner.cleanup()


@asynccontextmanager
async def serving_plain_http() -> AsyncIterator[int]:
    """An HTTP server without TLS (a webhook misconfigured to serve plain HTTP); its port."""

    async def empty(request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/", empty)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()
