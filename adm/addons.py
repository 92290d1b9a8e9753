"""The cluster's add-ons as `kubeadm init phase addon all` installs them: kube-proxy (a DaemonSet)
and the cluster DNS (docker/addons), and the metrics API, their apiserver address set to the
control plane's endpoint.

kube-proxy cannot reach the apiserver through the `kubernetes` Service before it has programmed
that Service itself, and the cluster DNS runs before any Service works on a node, so both are
given the control plane's own address, as kubeadm writes its controlPlaneEndpoint into
kube-proxy's kubeconfig. docker/addons name the default profile's (`apiserver:6444`, the
apiserver's port for bearer tokens); the highly available profile applies them with its load
balancer's (`lb:6444`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from podplane.apimachinery.json_types import JSONObject, JSONValue

SERVER_FLAG = "--server="


def with_server(document: JSONObject, server: str) -> JSONObject:
    """The document with every container's `--server=` argument (in command or args) set to
    `server`; anything else, and documents without pods, unchanged."""
    pod_spec = document.get("spec", {}).get("template", {}).get("spec")
    if not isinstance(pod_spec, dict):
        return document
    for key in ("initContainers", "containers"):
        for container in pod_spec.get(key) or []:
            for field in ("command", "args"):
                if field in container:
                    container[field] = [_server_arg(a, server) for a in container[field]]
    return document


def _server_arg(arg: JSONValue, server: str) -> JSONValue:
    return f"{SERVER_FLAG}{server}" if isinstance(arg, str) and arg.startswith(SERVER_FLAG) else arg


def render(paths: Iterable[Path], server: str) -> list[JSONObject]:
    """The add-ons' objects from the YAML files at `paths` (a folder: its *.yaml, by name), with
    `server` as their apiserver address."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    documents = []
    for file in files:
        for document in yaml.safe_load_all(file.read_text()):
            if document:
                documents.append(with_server(document, server))
    return documents
