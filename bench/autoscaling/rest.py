"""The compose cluster's Kubernetes REST door as kubectl reaches it: a kubeconfig (--kubeconfig,
else $KUBECONFIG, else build/kubeconfig) names the URL, the CA and the user's client certificate
or token; its embedded data are written to a private folder for `requests`, removed on close.
The benchmark reads what kubectl reads (the metrics API, the HPA's status, the kubelet through
the apiserver's nodes/proxy) and runs `kubectl exec` with the same file."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import yaml

from podplane.apimachinery.json_types import JSONObject, JSONValue

DEFAULT_KUBECONFIG = "build/kubeconfig"
TIMEOUT = 30.0


def kubeconfig_path(given: str | None) -> str:
    return given or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or DEFAULT_KUBECONFIG


def kubectl_binary() -> str:
    """The kubectl beside this Python (the project's .venv pins one), else the PATH's."""
    beside = Path(sys.executable).parent / "kubectl"
    return str(beside) if beside.exists() else shutil.which("kubectl") or "kubectl"


def _named(items: list[JSONObject], name: str) -> JSONObject:
    return next(item for item in items if item["name"] == name)


class Rest:
    """JSON over the REST door, as the kubeconfig's current context's user."""

    def __init__(self, kubeconfig: str) -> None:
        self.kubeconfig = kubeconfig
        with open(kubeconfig) as f:
            config = yaml.safe_load(f)
        context = _named(config["contexts"], config["current-context"])["context"]
        cluster = _named(config["clusters"], context["cluster"])["cluster"]
        user = _named(config["users"], context["user"])["user"]
        self.url = str(cluster["server"]).rstrip("/")
        self._dir = tempfile.mkdtemp(prefix="podplane-bench-rest-")
        self.session = requests.Session()
        # The kubeconfig's CA, never the environment's bundle (REQUESTS_CA_BUNDLE would win
        # over session.verify) nor its proxies: kubectl's choices.
        self.session.trust_env = False
        self.session.verify = self._file(cluster, "certificate-authority") or True
        cert, key = self._file(user, "client-certificate"), self._file(user, "client-key")
        if cert and key:
            self.session.cert = (cert, key)
        if "token" in user:
            self.session.headers["Authorization"] = f"Bearer {user['token']}"

    def _file(self, entry: JSONObject, key: str) -> str | None:
        """A kubeconfig entry's file (`key`), or its embedded data (`key-data`) written out."""
        if key in entry:
            return str(entry[key])
        if f"{key}-data" not in entry:
            return None
        path = os.path.join(self._dir, key)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(base64.b64decode(entry[f"{key}-data"]))
        return path

    def request(self, method: str, path: str, body: JSONObject | None = None) -> JSONValue:
        headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
        reply = self.session.request(
            method, self.url + path, json=body, headers=headers, timeout=TIMEOUT
        )
        if reply.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:300]}")
        return reply.json() if reply.content else None

    def get(self, path: str) -> JSONValue:
        return self.request("GET", path)

    def get_raw(self, path: str) -> bytes:
        reply = self.session.get(self.url + path, timeout=TIMEOUT)
        reply.raise_for_status()
        return reply.content

    def create(self, path: str, body: JSONObject) -> JSONValue:
        return self.request("POST", path, body)

    def delete(self, path: str) -> None:
        reply = self.session.delete(self.url + path, timeout=TIMEOUT)
        if reply.status_code not in (200, 202, 404):
            raise RuntimeError(f"DELETE {path}: {reply.status_code} {reply.text[:300]}")

    def exists(self, path: str) -> bool:
        return self.session.get(self.url + path, timeout=TIMEOUT).status_code != 404

    def new_namespace(self, prefix: str) -> str:
        name = f"{prefix}{secrets.token_hex(3)}"
        self.create("/api/v1/namespaces", {"metadata": {"name": name}})
        return name

    def delete_namespace(self, name: str, timeout: float = 180.0) -> None:
        """Deletes it and waits until it is gone (its pods with it), so that the next step's
        figures do not carry its pods' teardown."""
        self.delete(f"/api/v1/namespaces/{name}")
        deadline = time.monotonic() + timeout
        while self.exists(f"/api/v1/namespaces/{name}"):
            if time.monotonic() > deadline:
                print(f"namespace {name} still there after {timeout:.0f} s", file=sys.stderr)
                return
            time.sleep(1.0)

    def kubectl(self, *args: str) -> None:
        subprocess.run(
            [kubectl_binary(), "--kubeconfig", self.kubeconfig, *args],
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
        )

    def close(self) -> None:
        self.session.close()
        shutil.rmtree(self._dir, ignore_errors=True)
