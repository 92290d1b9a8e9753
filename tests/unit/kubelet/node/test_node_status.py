"""The Node the kubelet registers: capacity from the machine, addresses, endpoint, nodeInfo, labels
and conditions whose transition times only move on a change."""

from __future__ import annotations

from kubelet.node.machine_info import memory_total_kib, pretty_os_name
from kubelet.node.status import build_node, node_images
from kubelet.runtime.types import ImageInfo
from tests.unit.kubelet.node.machine import IDENTITY, MACHINE


def test_node_describes_the_machine() -> None:
    node = build_node(IDENTITY, MACHINE, "docker://20.10.24", None, "t0")
    assert dict(node.status.capacity) == {"cpu": "4", "memory": "16000000Ki", "pods": "110"}
    assert dict(node.status.allocatable) == dict(node.status.capacity)
    assert (node.spec.pod_cidr, list(node.spec.pod_cidrs)) == ("10.244.1.0/24", ["10.244.1.0/24"])
    assert [(a.type, a.address) for a in node.status.addresses] == [
        ("InternalIP", "172.18.0.3"),
        ("Hostname", "node-1-host"),
    ]
    assert node.status.daemon_endpoints.kubelet_endpoint.port == 10250
    info = node.status.node_info
    assert (
        info.container_runtime_version,
        info.kubelet_version,
        info.operating_system,
        info.architecture,
        info.kernel_version,
    ) == ("docker://20.10.24", "v1.31.0-podplane", "linux", "amd64", "6.1.0")
    assert dict(node.metadata.labels) == {
        "zone": "a",
        "kubernetes.io/hostname": "node-1",
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
    }


def test_conditions_ready_and_no_pressure() -> None:
    node = build_node(IDENTITY, MACHINE, "docker://x", None, "t0")
    assert [(c.type, c.status, c.reason) for c in node.status.conditions] == [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID"),
        ("Ready", "True", "KubeletReady"),
    ]
    ready = node.status.conditions[3]
    assert ready.message == "kubelet is posting ready status"
    assert ready.last_heartbeat_time == ready.last_transition_time == "t0"


def test_heartbeat_moves_transition_only_on_change() -> None:
    first = build_node(IDENTITY, MACHINE, "docker://x", None, "t0")
    second = build_node(IDENTITY, MACHINE, "docker://x", None, "t1", first)
    ready = second.status.conditions[3]
    assert (ready.last_heartbeat_time, ready.last_transition_time) == ("t1", "t0")
    third = build_node(IDENTITY, MACHINE, "docker://x", "container runtime is down", "t2", second)
    ready = third.status.conditions[3]
    assert (ready.status, ready.reason, ready.last_transition_time) == (
        "False",
        "KubeletNotReady",
        "t2",
    )


def test_proc_and_os_release_parsing() -> None:
    assert memory_total_kib("MemTotal:       24684084 kB\nMemFree: 1 kB\n") == 24684084
    assert (
        pretty_os_name('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
        == "Debian GNU/Linux 12 (bookworm)"
    )


def test_images_largest_first_by_digest_then_tag_limited_as_the_kubelet() -> None:
    images = [
        ImageInfo(id="a", repo_tags=("busybox:latest",), size=4_000_000),
        ImageInfo(
            id="b",
            repo_digests=("nginx@sha256:1",),
            repo_tags=("nginx:1", "web:1"),
            size=180_000_000,
        ),
        ImageInfo(id="c", repo_tags=("<none>:<none>",), size=9_000_000_000),
        ImageInfo(id="d", repo_tags=tuple(f"app:{i}" for i in range(8)), size=1),
    ]
    reported = node_images(images)
    assert [(list(i.names), i.size_bytes) for i in reported] == [
        (["nginx@sha256:1", "nginx:1", "web:1"], 180_000_000),
        (["busybox:latest"], 4_000_000),
        ([f"app:{i}" for i in range(5)], 1),
    ]
    assert [list(i.names) for i in node_images(images, max_images=1)] == [
        ["nginx@sha256:1", "nginx:1", "web:1"]
    ]
    node = build_node(IDENTITY, MACHINE, "docker://x", None, "t0", images=reported)
    assert [i.names[0] for i in node.status.images] == ["nginx@sha256:1", "busybox:latest", "app:0"]
