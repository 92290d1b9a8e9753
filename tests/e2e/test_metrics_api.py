"""The metrics API add-on (docker/addons/metrics-server.yaml) on the compose cluster: its
APIService goes Available, `kubectl top node` prints every node's usage, a pod burning a CPU
shows in `kubectl top pod` (its containers with --containers, every namespace with -A, sorted
with --sort-by), a user is refused the metrics until bound to view, which aggregates
system:aggregated-metrics-reader, and `kubectl get --raw` reads a NodeMetrics as
metrics-server writes it, and `kubectl top pod` gives the CPU the burner's own cgroup counted
over the same window, within 10 %."""

from __future__ import annotations

import bisect
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime

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
    # Sorted busiest first (other tests' pods share the cluster: the burner need not lead).
    cpus = [millicores(r[2]) for r in everywhere[1:]]
    assert cpus == sorted(cpus, reverse=True)
    assert [burner, "burner"] in [r[:2] for r in everywhere[1:]]
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


def test_kubectl_get_nodemetrics_prints_metrics_servers_table() -> None:
    k = Kubectl()
    out = eventually(
        lambda: k.ok("get", "nodemetrics"), timeout=120, what="kubectl get nodemetrics"
    )
    table = rows(out)
    assert table[0] == ["NAME", "CPU", "MEMORY", "WINDOW"]
    assert sorted(r[0] for r in table[1:]) == list(NODES)
    for _, cpu, memory, window in table[1:]:
        assert re.fullmatch(r"\d+n|\d+u|\d+m|\d+", cpu), cpu
        assert re.fullmatch(r"\d+(Ki|Mi|Gi)?", memory), memory
        assert re.fullmatch(r"\d+(\.\d+)?s", window), window


def test_node_metrics_read_raw() -> None:
    raw = json.loads(Kubectl().ok("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes/node-1"))
    assert (raw["kind"], raw["apiVersion"], raw["metadata"]["name"]) == (
        "NodeMetrics",
        "metrics.k8s.io/v1beta1",
        "node-1",
    )
    assert raw["metadata"]["labels"]["kubernetes.io/hostname"] == "node-1"
    assert re.fullmatch(r"\d+(\.\d+)?s", raw["window"]) and set(raw["usage"]) == {"cpu", "memory"}


# Every second: the kernel's uptime (CLOCK_BOOTTIME, 10 ms) and the container cgroup's CPU time in
# nanoseconds (cgroup v1's cpuacct.usage, or v2's usage_usec), as the CRI stats read it.
CGROUP_SAMPLER = (
    "while :; do cat /proc/uptime; cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null"
    " || awk '/^usage_usec/ {printf \"%d\\n\", $2 * 1000}' /sys/fs/cgroup/cpu.stat; sleep 1; done"
)


class CgroupReadings:
    """The burner's cgroup CPU time, read inside its container every second, by wall-clock time
    (the host shares the kernel's clocks: its wall clock minus its uptime converts)."""

    def __init__(self, kubectl: Kubectl) -> None:
        self.points: list[tuple[float, int]] = []
        self._offset = time.time() - float(open("/proc/uptime").read().split()[0])
        self._process = kubectl.popen("exec", "burner", "--", "sh", "-c", CGROUP_SAMPLER)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        uptime: float | None = None
        for line in self._process.stdout:
            if uptime is None:
                uptime = float(line.split()[0])
            else:
                self.points.append((self._offset + uptime, int(line)))
                uptime = None

    def cpu_seconds_at(self, when: float) -> float | None:
        """The cgroup's CPU time at a moment between two readings, interpolated."""
        points = list(self.points)
        i = bisect.bisect_left(points, (when, 0))
        if i == 0 or i == len(points):
            return None
        (t0, u0), (t1, u1) = points[i - 1], points[i]
        return (u0 + (u1 - u0) * (when - t0) / (t1 - t0)) / 1e9

    def close(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()


def test_kubectl_top_pod_gives_what_the_cgroup_counted(burner: str) -> None:
    k = Kubectl(burner)
    readings = CgroupReadings(k)
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{burner}/pods/burner"

    def compared() -> tuple[int, float] | None:
        """kubectl top's CPU and the cgroup's over the PodMetrics' window, once the readings
        cover that window and top shows the same point as the PodMetrics read before it."""
        before = json.loads(k.ok("get", "--raw", path))
        shown = millicores(rows(k.ok("top", "pod", "burner"))[1][1])
        after = json.loads(k.ok("get", "--raw", path))
        if before["timestamp"] != after["timestamp"]:
            return None  # a new point came between the reads
        # RFC 3339 in whole seconds: the point was read within the second after it.
        end = datetime.fromisoformat(before["timestamp"].replace("Z", "+00:00")).timestamp()
        end += 0.5
        start = end - float(before["window"].removesuffix("s"))
        used = [readings.cpu_seconds_at(start), readings.cpu_seconds_at(end)]
        if used[0] is None or used[1] is None:
            return None
        return shown, (used[1] - used[0]) / (end - start) * 1000

    try:
        shown, counted = eventually(
            compared, timeout=120, what="a PodMetrics window the cgroup readings cover"
        )
    finally:
        readings.close()
    assert counted > 50, counted  # the burner burns (up to its 300m limit)
    assert abs(shown - counted) <= 0.1 * counted, (shown, counted)
