"""An aggregated API server, as a user writes one, with Python's standard library alone: it
serves wardle.example.com/v1alpha1's Flunders (Kubernetes' sample-apiserver's group), kept in
memory, behind the cluster's apiserver, which proxies every request for that group/version to
it (the APIService in aggregated-api.yaml).

It believes the apiserver as an aggregated API server must (Kubernetes' requestheader
authentication): at start it reads kube-system's extension-apiserver-authentication ConfigMap
(its service account may, through the extension-apiserver-authentication-reader Role), then
accepts a request only with a client certificate signed by requestheader-client-ca-file whose
common name is one of requestheader-allowed-names, and takes the user from the
requestheader-username-headers header. Every Flunder it creates records who created it.

- GET /apis/wardle.example.com/v1alpha1: the resource list (discovery);
- GET /openapi/v3 and /openapi/v3/apis/wardle.example.com/v1alpha1: its OpenAPI v3 document;
- GET, POST .../namespaces/<ns>/flunders; GET, DELETE .../namespaces/<ns>/flunders/<name>."""

from __future__ import annotations

import hashlib
import json
import signal
import ssl
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GROUP, VERSION = "wardle.example.com", "v1alpha1"
ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
TRUST = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
RESOURCES = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": f"{GROUP}/{VERSION}",
    "resources": [
        {
            "name": "flunders",
            "singularName": "flunder",
            "namespaced": True,
            "kind": "Flunder",
            "verbs": ["create", "delete", "get", "list"],
            "shortNames": ["fl"],
        }
    ],
}


def _described(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, **schema}


# The OpenAPI v3 document of the group/version (what `kubectl explain flunders` reads, through
# the apiserver, which lists it in its own /openapi/v3), and the root that links it by its hash.
OPENAPI = {
    "openapi": "3.0.0",
    "info": {"title": "wardle.example.com", "version": VERSION},
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
            "com.example.wardle.v1alpha1.Flunder": _described(
                "A Flunder: a reference to something, and who created it.",
                type="object",
                properties={
                    "apiVersion": _described("wardle.example.com/v1alpha1.", type="string"),
                    "kind": _described("Flunder.", type="string"),
                    "metadata": _described("Standard object's metadata.", type="object"),
                    "spec": _described(
                        "What the user asks for.",
                        type="object",
                        properties={"reference": _described("What it refers to.", type="string")},
                    ),
                    "status": _described(
                        "What the server recorded.",
                        type="object",
                        properties={
                            "createdBy": _described(
                                "The user who created it, as the apiserver named them.",
                                type="string",
                            )
                        },
                    ),
                },
                **{
                    "x-kubernetes-group-version-kind": [
                        {"group": GROUP, "version": VERSION, "kind": "Flunder"}
                    ]
                },
            )
        }
    },
}
OPENAPI_PATH = f"/openapi/v3/apis/{GROUP}/{VERSION}"
OPENAPI_HASH = hashlib.sha512(json.dumps(OPENAPI).encode()).hexdigest().upper()
OPENAPI_ROOT = {
    "paths": {
        f"apis/{GROUP}/{VERSION}": {"serverRelativeURL": f"{OPENAPI_PATH}?hash={OPENAPI_HASH}"}
    }
}


def read_trust() -> dict[str, str]:
    """The ConfigMap's data, read in the cluster as its service account."""
    with open(f"{ACCOUNT}/token") as f:
        token = f.read().strip()
    context = ssl.create_default_context(cafile=f"{ACCOUNT}/ca.crt")
    request = urllib.request.Request(
        f"https://kubernetes.default.svc{TRUST}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        data: dict[str, str] = json.load(response)["data"]
    return data


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
    }


class Store:
    """The Flunders by (namespace, name), and the revision each write takes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.flunders: dict[tuple[str, str], dict[str, Any]] = {}
        self.revision = 1

    def create(self, namespace: str, body: dict[str, Any], user: str) -> tuple[int, Any]:
        name = (body.get("metadata") or {}).get("name", "")
        if not name:
            return 422, status(
                422,
                "Invalid",
                "Flunder.wardle.example.com: metadata.name: Required value: name is required",
            )
        with self.lock:
            if (namespace, name) in self.flunders:
                message = f'flunders.{GROUP} "{name}" already exists'
                return 409, status(409, "AlreadyExists", message)
            self.revision += 1
            stored = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "Flunder",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "uid": str(uuid.uuid4()),
                    "resourceVersion": str(self.revision),
                    "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "labels": (body.get("metadata") or {}).get("labels") or {},
                },
                "spec": body.get("spec") or {},
                "status": {"createdBy": user},
            }
            self.flunders[(namespace, name)] = stored
            return 201, stored

    def list(self, namespace: str) -> dict[str, Any]:
        with self.lock:
            items = [f for (ns, _), f in sorted(self.flunders.items()) if ns == namespace]
            return {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "FlunderList",
                "metadata": {"resourceVersion": str(self.revision)},
                "items": items,
            }

    def get(self, namespace: str, name: str, delete: bool = False) -> tuple[int, Any]:
        with self.lock:
            found = (self.flunders.pop if delete else self.flunders.get)((namespace, name), None)
        if found is None:
            return 404, status(404, "NotFound", f'flunders.{GROUP} "{name}" not found')
        return 200, found


def handler(store: Store, trust: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    allowed = set(json.loads(trust.get("requestheader-allowed-names") or "[]"))
    user_headers = json.loads(trust.get("requestheader-username-headers") or "[]")

    class Handler(BaseHTTPRequestHandler):
        def user(self) -> str | None:
            """The user the front proxy names, if it is the front proxy."""
            peer = self.connection.getpeercert()
            names = [
                v for rdn in (peer or {}).get("subject", ()) for k, v in rdn if k == "commonName"
            ]
            if not names or (allowed and names[0] not in allowed):
                return None
            return next((self.headers[h] for h in user_headers if self.headers.get(h)), None)

        def answer(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def route(self, method: str) -> None:
            user = self.user()
            if user is None:
                self.answer(401, status(401, "Unauthorized", "Unauthorized"))
                return
            path = self.path.split("?")[0]
            parts = [p for p in path.split("/") if p]
            if parts == ["apis", GROUP, VERSION] and method == "GET":
                self.answer(200, RESOURCES)
                return
            if path in ("/openapi/v3", OPENAPI_PATH) and method == "GET":
                self.answer(200, OPENAPI_ROOT if path == "/openapi/v3" else OPENAPI)
                return
            if parts[:3] != ["apis", GROUP, VERSION] or parts[3:4] != ["namespaces"]:
                self.answer(
                    404, status(404, "NotFound", "the server could not find the requested resource")
                )
                return
            rest = parts[4:]
            if len(rest) == 2 and rest[1] == "flunders" and method == "GET":
                self.answer(200, store.list(rest[0]))
            elif len(rest) == 2 and rest[1] == "flunders" and method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                self.answer(*store.create(rest[0], json.loads(self.rfile.read(length)), user))
            elif len(rest) == 3 and rest[1] == "flunders" and method in ("GET", "DELETE"):
                self.answer(*store.get(rest[0], rest[2], delete=method == "DELETE"))
            else:
                self.answer(405, status(405, "MethodNotAllowed", f"{method} is not supported"))

        def do_GET(self) -> None:
            self.route("GET")

        def do_POST(self) -> None:
            self.route("POST")

        def do_DELETE(self) -> None:
            self.route("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            print(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}", flush=True)

    return Handler


def main() -> None:
    trust = read_trust()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain("/tls/tls.crt", "/tls/tls.key")
    with tempfile.NamedTemporaryFile("w", suffix=".crt", delete=False) as ca:
        ca.write(trust["requestheader-client-ca-file"])
    context.load_verify_locations(ca.name)
    context.verify_mode = ssl.CERT_REQUIRED
    server = ThreadingHTTPServer(("", 8443), handler(Store(), trust))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"serving {GROUP}/{VERSION} on :8443", flush=True)
    # PID 1 in its container: SIGTERM does nothing unless handled, and the pod would take its
    # whole grace period to stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
