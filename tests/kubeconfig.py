"""A kubeconfig of one cluster and one user, as the tests hand kubectl and the other real
clients: the server, how to trust it, who calls (a bearer token, or no one), and the namespace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_kubeconfig(
    path: Path,
    server: str,
    *,
    ca: Path | None = None,
    insecure: bool = False,
    token: str | None = None,
    user: str = "caller",
    namespace: str | None = None,
) -> Path:
    """Writes the kubeconfig (JSON, which is YAML too) to `path` and returns it. Its context is
    named after the user; `insecure` is insecure-skip-tls-verify (@kubernetes/client-node wants
    it even for plain HTTP)."""
    cluster: dict[str, Any] = {"server": server}
    if ca is not None:
        cluster["certificate-authority"] = str(ca)
    if insecure:
        cluster["insecure-skip-tls-verify"] = True
    context: dict[str, Any] = {"cluster": "podplane", "user": user}
    if namespace:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "podplane", "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token} if token else {}}],
        "contexts": [{"name": user, "context": context}],
        "current-context": user,
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path
