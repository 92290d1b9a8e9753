"""The compose cluster brought up by `make up` (apiserver on localhost:6443, three Docker-in-Docker
nodes): where it is, the admin's credentials, and `docker compose`, a node's own `docker` and
`podctl` run against it."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from podplane.client.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("PODPLANE_SERVER", "localhost:6443")
NODES = ("node-1", "node-2", "node-3")
# The cluster's PKI (make up writes it): the tests act as the admin (O=system:masters).
PKI = Path(os.environ.get("PODPLANE_PKI", ROOT / "build" / "pki"))
ADMIN = Credentials(str(PKI / "ca.crt"), str(PKI / "admin.crt"), str(PKI / "admin.key"))
ADMIN_ENV = {
    "PODPLANE_CA": ADMIN.ca_file,
    "PODPLANE_CERT": str(ADMIN.cert_file),
    "PODPLANE_KEY": str(ADMIN.key_file),
}


def compose(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "compose", *args],
        cwd=ROOT,
        check=check,
        text=True,
        capture_output=True,
        timeout=timeout,
    )


# Prints what GET argv[1] answers: run by a service's own Python, inside its container.
_HTTP_GET = (
    "import sys, urllib.request; "
    "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())"
)


def component_metrics(
    service: str, port: int
) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the Prometheus /metrics a component serves on `port` in its compose
    service's container (a kubelet's on 10255, a scheduler's on 10251: on the cluster network
    only, not the host's), as (name, labels) -> value."""
    url = f"http://127.0.0.1:{port}/metrics"
    text = compose("exec", "-T", service, "python", "-c", _HTTP_GET, url).stdout
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def node_docker(node: str, *args: str) -> str:
    """Runs `docker ...` against a node's own engine, inside the node container."""
    return compose("exec", "-T", node, "docker", *args).stdout


@functools.cache
def node_runtime(node: str) -> str:
    """The runtime the node's kubelet runs pods with: docker or containerd (CONTAINER_RUNTIME)."""
    found = compose("exec", "-T", node, "printenv", "CONTAINER_RUNTIME", check=False).stdout
    return found.strip() or "docker"


def _ctr(node: str, *args: str) -> str:
    return compose("exec", "-T", node, "ctr", "-n", "k8s.io", *args).stdout


@dataclass(frozen=True)
class NodeContainer:
    id: str
    pod_name: str


def node_containers(
    node: str, labels: Mapping[str, str], *, include_stopped: bool = False
) -> list[NodeContainer]:
    """The containers (pod sandboxes included) in the node's own runtime that carry every one of
    the labels: its Docker engine's (`docker ps`), or containerd's k8s.io namespace (`ctr`);
    running ones only unless `include_stopped`."""
    if node_runtime(node) != "containerd":
        filters = [a for k, v in labels.items() for a in ("--filter", f"label={k}={v}")]
        out = node_docker(
            node,
            "ps",
            *(["-a"] if include_stopped else []),
            *filters,
            "--format",
            '{{.ID}} {{.Label "io.kubernetes.pod.name"}}',
        )
        rows = [line.partition(" ") for line in out.splitlines() if line]
        return [NodeContainer(cid, pod) for cid, _, pod in rows]
    selector = [f'labels."{k}"=={v}' for k, v in labels.items()]
    # One filter with every condition (ctr ORs separate filters, ANDs a filter's parts).
    ids = _ctr(node, "containers", "list", "-q", ",".join(selector)).split()
    if not include_stopped:
        tasks = _ctr(node, "tasks", "list").splitlines()[1:]
        running = {t.split()[0] for t in tasks if t.split()[-1:] == ["RUNNING"]}
        ids = [i for i in ids if i in running]
    found = []
    for cid in ids:
        pod = (container_info(node, cid).get("Labels") or {}).get("io.kubernetes.pod.name", "")
        found.append(NodeContainer(cid, pod))
    return found


def container_info(node: str, container_id: str) -> dict[str, Any]:
    """`ctr containers info` of a container in the node's containerd (k8s.io namespace): its
    labels, image, runtime and its options, spec."""
    return json.loads(_ctr(node, "containers", "info", container_id) or "{}")  # type: ignore[no-any-return]


def kill_node_container(node: str, container_id: str) -> None:
    """SIGKILL to the container's process, as a crash would end it."""
    if node_runtime(node) == "containerd":
        _ctr(node, "tasks", "kill", "--signal", "SIGKILL", container_id)
    else:
        node_docker(node, "kill", "--signal", "KILL", container_id)


def podctl(
    *args: str, stdin: str | None = None, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ADMIN_ENV, "PODPLANE_SERVER": SERVER}
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "podctl"), *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"podctl {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result
