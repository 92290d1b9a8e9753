"""An admission webhook server, as a user writes one, with Python's standard library alone: HTTPS
on :8443 with the certificate in /tls (the Secret the Deployment mounts), answering
AdmissionReview v1 requests for Pods (webhook.yaml registers them):

- POST /mutate: a JSON patch that labels the pod example.podplane.io/mutated=true;
- POST /validate: refuses a pod labelled example.podplane.io/deny, with its value as reason;
- POST /slow: waits SLOW_SECONDS (10), then allows: longer than its configuration's
  timeoutSeconds, to see what the apiserver does with a webhook that is late.

Each review is logged as one line: its path, the pod's name and the answer."""

from __future__ import annotations

import base64
import json
import os
import signal
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DENY_LABEL = "example.podplane.io/deny"
MUTATED_LABEL = "example.podplane.io/mutated"
SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "10"))


def mutate(request: dict[str, Any]) -> dict[str, Any]:
    labels = (request["object"].get("metadata") or {}).get("labels")
    # A JSON Pointer escapes "/" as "~1".
    key = MUTATED_LABEL.replace("~", "~0").replace("/", "~1")
    patch = (
        [{"op": "add", "path": f"/metadata/labels/{key}", "value": "true"}]
        if labels
        else [{"op": "add", "path": "/metadata/labels", "value": {MUTATED_LABEL: "true"}}]
    )
    return {
        "allowed": True,
        "patchType": "JSONPatch",
        "patch": base64.b64encode(json.dumps(patch).encode()).decode(),
    }


def validate(request: dict[str, Any]) -> dict[str, Any]:
    labels = (request["object"].get("metadata") or {}).get("labels") or {}
    if DENY_LABEL in labels:
        reason = labels[DENY_LABEL] or "no reason given"
        message = f"pods labelled {DENY_LABEL} are not allowed: {reason}"
        return {"allowed": False, "status": {"code": 403, "message": message}}
    return {"allowed": True}


def slow(request: dict[str, Any]) -> dict[str, Any]:
    time.sleep(SLOW_SECONDS)
    return {"allowed": True}


ROUTES = {"/mutate": mutate, "/validate": validate, "/slow": slow}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        route = ROUTES.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        review = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        request = review["request"]
        answer = {"uid": request["uid"], **route(request)}
        name = (request.get("object") or {}).get("metadata", {}).get("name", "")
        print(json.dumps({"path": self.path, "pod": name, "allowed": answer["allowed"]}))
        body = json.dumps(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": answer}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per review, above


def main() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain("/tls/tls.crt", "/tls/tls.key")
    server = ThreadingHTTPServer(("", 8443), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("serving admission reviews on :8443", flush=True)
    # PID 1 in its container: SIGTERM does nothing unless handled, and the pod would take its
    # whole grace period to stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
