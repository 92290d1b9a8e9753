"""The admission webhook the webhook benchmark calls (bench/apiserver/admission_webhooks.py), in
a process of its own so that its work is not the apiserver's: HTTPS on 127.0.0.1:PORT with the
certificate given, AdmissionReview v1; /allow admits, /label admits with a JSON patch adding a
label; either refuses a ConfigMap whose name starts with "probe-" (how the benchmark sees that a
webhook is in force).

    python -m bench.apiserver.webhook_backend PORT CERT KEY
"""

from __future__ import annotations

import base64
import json
import ssl
import sys

from aiohttp import web

LABEL_PATCH = base64.b64encode(
    json.dumps([{"op": "add", "path": "/metadata/labels", "value": {"bench": "labelled"}}]).encode()
).decode()


async def review(request: web.Request) -> web.Response:
    body = await request.json()
    req = body["request"]
    name = (req.get("object") or {}).get("metadata", {}).get("name", "")
    answer: dict[str, object] = {"uid": req["uid"], "allowed": not name.startswith("probe-")}
    if not answer["allowed"]:
        answer["status"] = {"code": 403, "message": "a probe"}
    elif request.match_info["path"] == "label":
        answer.update(patchType="JSONPatch", patch=LABEL_PATCH)
    return web.json_response(
        {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": answer}
    )


def main(argv: list[str]) -> None:
    port, cert, key = int(argv[0]), argv[1], argv[2]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_post("/{path}", review)
    web.run_app(app, host="127.0.0.1", port=port, ssl_context=context, print=None)


if __name__ == "__main__":
    main(sys.argv[1:])
