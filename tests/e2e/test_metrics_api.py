"""The metrics API add-on (docker/addons/metrics-server.yaml) on the compose cluster: its
APIService goes Available, `kubectl top node` prints every node's usage, a pod burning a CPU
shows in `kubectl top pod` (its containers with --containers, every namespace with -A, sorted
with --sort-by), a user is refused the metrics until bound to view, which aggregates
system:aggregated-metrics-reader, and `kubectl get --raw` reads a NodeMetrics as
metrics-server writes it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.e2e.kubectl import VIEWER_KUBECONFIG, Kubectl
from tests.e2e.waiting import eventually

NODES = ("node-1", "node-2", "node-3")
BURN = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "burner", "labels": {"app": "burner"}},
    "spec": {
        "terminationGracePeriodSeconds": 0,
        "containers": [
            {
                "name": "burn",
                "image": "busybox:latest",
                "command": ["sh", "-c", "while :; do :; done"],
                # A third of a core at most: the shared tests run beside it.
                "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "300m"}},
            }
        ],
    },
}


def rows(out: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()]


def millicores(text: str) -> int:
    return int(text.removesuffix("m")) if text.endswith("m") else int(text) * 1000


@pytest.fixture(scope="module")
def burner(kubectl_namespace: str) -> Iterator[str]:
    k = Kubectl(kubectl_namespace)
    k.ok("apply", "-f", "-", stdin=json.dumps(BURN))
    k.ok("wait", "--for=condition=Ready", "pod/burner", "--timeout=120s")
    yield kubectl_namespace
    k.run("delete", "pod", "burner", "--wait=false")


def test_kubectl_top_node_prints_every_node() -> None:
    k = Kubectl()
    available = k.run(
        "wait", "--for=condition=Available", "apiservice/v1beta1.metrics.k8s.io", "--timeout=120s"
    )
    assert available.code == 0, available
    # Two scrapes (15 s apart) make a node's first usage.
    out = eventually(lambda: k.ok("top", "node"), timeout=120, what="kubectl top node")
    table = rows(out)
    assert table[0] == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert sorted(r[0] for r in table[1:]) == list(NODES)
    for name, cpu, cpu_percent, memory, memory_percent in table[1:]:
        assert re.fullmatch(r"\d+m", cpu) and millicores(cpu) > 0, (name, cpu)
        assert re.fullmatch(r"\d+%", cpu_percent) and re.fullmatch(r"\d+%", memory_percent)
        assert re.fullmatch(r"\d+Mi", memory) and int(memory[:-2]) > 0, (name, memory)


def test_a_pod_burning_a_cpu_shows_in_kubectl_top_pod(burner: str) -> None:
    k = Kubectl(burner)

    def busy() -> list[list[str]] | None:
        table = rows(k.ok("top", "pod", "burner"))
        return table if millicores(table[1][1]) >= 100 else None

    table = eventually(busy, timeout=120, what="the burner's CPU in kubectl top pod")
    assert table[0] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert table[1][0] == "burner" and re.fullmatch(r"\d+Mi", table[1][2])
    containers = rows(k.ok("top", "pod", "burner", "--containers"))
    assert containers[0] == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert containers[1][:2] == ["burner", "burn"]
    everywhere = rows(Kubectl().ok("top", "pod", "-A", "--sort-by=cpu"))
    assert everywhere[0] == ["NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert everywhere[1][:2] == [burner, "burner"]  # the busiest first
    assert "metrics-server" in {
        r[1].rsplit("-", 2)[0] for r in everywhere[1:] if r[0] == "kube-system"
    }
    viewer = Kubectl(burner, kubeconfig=VIEWER_KUBECONFIG)
    refused = viewer.run("top", "pod", "-l", "app=burner")
    assert (refused.code, refused.err) == (
        1,
        'Error from server (Forbidden): pods.metrics.k8s.io is forbidden: User "viewer" cannot '
        f'list resource "pods" in API group "metrics.k8s.io" in the namespace "{burner}"\n',
    )
    # The view ClusterRole aggregates system:aggregated-metrics-reader's rules.
    k.ok("create", "rolebinding", "viewer-view", "--clusterrole=view", "--user=viewer")
    shown = eventually(
        lambda: viewer.ok("top", "pod", "-l", "app=burner"), timeout=30, what="the viewer's top"
    )
    assert rows(shown)[1][0] == "burner"


def test_node_metrics_read_raw() -> None:
    raw = json.loads(Kubectl().ok("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes/node-1"))
    assert (raw["kind"], raw["apiVersion"], raw["metadata"]["name"]) == (
        "NodeMetrics",
        "metrics.k8s.io/v1beta1",
        "node-1",
    )
    assert raw["metadata"]["labels"]["kubernetes.io/hostname"] == "node-1"
    assert re.fullmatch(r"\d+(\.\d+)?s", raw["window"]) and set(raw["usage"]) == {"cpu", "memory"}
