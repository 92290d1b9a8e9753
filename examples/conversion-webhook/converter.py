"""A CRD conversion webhook, as a user writes one, with Python's standard library alone: HTTPS on
:8443 with the certificate in /tls (the Secret the Deployment mounts), answering ConversionReview
v1 requests at POST /convert for the CronTabs of crontab.yaml: v1 has spec.cronSpec, v2 has
spec.schedule; the apiserver stores v1 and asks this webhook whenever a request is at the other
version. Each review is logged as one line: the versions and how many objects."""

from __future__ import annotations

import json
import signal
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The field each version keeps the schedule in.
SCHEDULE_FIELD = {"v1": "cronSpec", "v2": "schedule"}


def convert(obj: dict[str, Any], desired_api_version: str) -> dict[str, Any]:
    """The object at `desired_api_version`: its schedule moved to that version's field, every
    other field as it was (metadata included, as the apiserver requires)."""
    have = obj["apiVersion"].rsplit("/", 1)[1]
    want = desired_api_version.rsplit("/", 1)[1]
    spec = dict(obj.get("spec") or {})
    if have != want and SCHEDULE_FIELD[have] in spec:
        spec[SCHEDULE_FIELD[want]] = spec.pop(SCHEDULE_FIELD[have])
    return {**obj, "apiVersion": desired_api_version, "spec": spec}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.path.split("?")[0] != "/convert":
            self.send_error(404)
            return
        review = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        request = review["request"]
        desired = request["desiredAPIVersion"]
        try:
            objects = [convert(o, desired) for o in request["objects"]]
            response = {
                "uid": request["uid"],
                "result": {"status": "Success"},
                "convertedObjects": objects,
            }
        except (KeyError, IndexError) as e:
            failure = {"status": "Failure", "message": f"cannot convert: {e}"}
            response = {"uid": request["uid"], "result": failure}
        print(json.dumps({"to": desired, "objects": len(request["objects"])}), flush=True)
        body = json.dumps(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "ConversionReview",
                "response": response,
            }
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
    print("serving conversion reviews on :8443", flush=True)
    # PID 1 in its container: SIGTERM does nothing unless handled.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
