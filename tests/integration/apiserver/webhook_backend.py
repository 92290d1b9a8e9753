"""A real HTTPS admission webhook for the integration tests, on 127.0.0.1 (and the host's other
addresses) with a serving certificate for 127.0.0.1 and `hook.ns.svc` from a CA made for the test
(tests/unit/apiserver/webhook/webhook_server.make_pki),
answering AdmissionReview v1 by path:

- /mutate: allows, patching a label `webhook: mutated` and an annotation
  `example.com/mutated-by: test-webhook` into the object, with a warning;
- /deny: denies with code 403 and a message naming the object;
- /warn: allows with two warnings;
- /slow: answers after SLOW_SECONDS;
- /saw-b: allows, recording in an annotation the label `b` it saw (`none` without it);
- /label-b: allows, patching the label `b: "yes"`;
- /allow: allows.

Every review it is sent is recorded, by path, for the tests to look at."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from podplane.apimachinery.json_types import JSONObject
from tests.unit.apiserver.webhook.webhook_server import make_pki

SLOW_SECONDS = 4.0
MUTATE_WARNING = "the test webhook labelled this object"
WARNINGS = ("first warning from the webhook", "second warning from the webhook")


@dataclass
class Backend:
    port: int
    ca_pem: bytes
    seen: dict[str, list[JSONObject]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def reviews(self, path: str) -> list[JSONObject]:
        return self.seen.get(path, [])


def _escape(key: str) -> str:
    """A JSON pointer token (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def _set(obj: JSONObject, section: str, key: str, value: str) -> list[JSONObject]:
    """JSON patch operations that set metadata.<section>[key], whether the map exists or not."""
    if (obj.get("metadata") or {}).get(section):
        path = f"/metadata/{section}/{_escape(key)}"
        return [{"op": "add", "path": path, "value": value}]
    return [{"op": "add", "path": f"/metadata/{section}", "value": {key: value}}]


def _patched(response: JSONObject, operations: list[JSONObject]) -> JSONObject:
    response["patchType"] = "JSONPatch"
    response["patch"] = base64.b64encode(json.dumps(operations).encode()).decode()
    return response


def _answer(path: str, request: JSONObject) -> JSONObject:
    obj = request.get("object") or {}
    response: JSONObject = {"uid": request["uid"], "allowed": True}
    if path == "/mutate":
        ops = _set(obj, "labels", "webhook", "mutated")
        ops += _set(obj, "annotations", "example.com/mutated-by", "test-webhook")
        response["warnings"] = [MUTATE_WARNING]
        return _patched(response, ops)
    if path == "/deny":
        name = (obj.get("metadata") or {}).get("name", "")
        response["allowed"] = False
        response["status"] = {"code": 403, "message": f"configmap {name} is not welcome here"}
        response["auditAnnotations"] = {"decision": "denied"}
        return response
    if path == "/warn":
        response["warnings"] = list(WARNINGS)
        return response
    if path == "/saw-b":
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return _patched(response, _set(obj, "annotations", "saw-b", labels.get("b", "none")))
    if path == "/label-b":
        return _patched(response, _set(obj, "labels", "b", "yes"))
    return response


def _app(backend: Backend) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        review = await request.json()
        backend.seen.setdefault(request.path, []).append(review["request"])
        if request.path == "/slow":
            await asyncio.sleep(SLOW_SECONDS)
        return web.json_response(
            {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": _answer(request.path, review["request"]),
            }
        )

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    return app


@asynccontextmanager
async def serving(directory: Path) -> AsyncIterator[Backend]:
    ca_pem, crt, key = make_pki(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    backend = Backend(port=0, ca_pem=ca_pem)
    runner = web.AppRunner(_app(backend), shutdown_timeout=1.0)
    await runner.setup()
    # Every address: 127.0.0.1 for webhooks by URL, the host's for one reached through a
    # Service's EndpointSlice (which takes no loopback address).
    site = web.TCPSite(runner, "0.0.0.0", 0, ssl_context=context)
    await site.start()
    backend.port = int(runner.addresses[0][1])
    try:
        yield backend
    finally:
        await runner.cleanup()
