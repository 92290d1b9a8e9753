"""The pod start-up benchmark's CPU per pod on the nodes (bench/pod_startup/node_cpu.py): each
node's cgroup delta split over its processes by name, the shims' children as the OCI runtime's
runs, the rest as what ended within the cell; summed over the nodes, per pod."""

from __future__ import annotations

from bench.common.cpu import Process
from bench.pod_startup.node_cpu import ENDED, OCI_RUNTIME, Sample, per_pod_ms

NODE_1, NODE_2, OTHER = "a" * 64, "b" * 64, "c" * 64


def proc(pid: int, name: str, where: tuple[str, ...], cpu: float, children: float = 0.0) -> Process:
    return Process(pid, 100 + pid, name, where, cpu, children)


def test_each_process_costs_its_share_per_pod_over_every_node() -> None:
    before = Sample(
        0.0,
        {NODE_1: 10.0, NODE_2: 20.0},
        {
            (1, 101): proc(1, "kubelet", (NODE_1,), 5.0),
            (2, 102): proc(2, "kubelet", (NODE_2,), 7.0),
            (3, 103): proc(3, "containerd", (NODE_1,), 1.0),
            (9, 109): proc(9, "apiserver", (OTHER,), 50.0),
        },
    )
    after = Sample(
        30.0,
        {NODE_1: 14.0, NODE_2: 22.0},
        {
            (1, 101): proc(1, "kubelet", (NODE_1,), 6.0),  # +1.0
            (2, 102): proc(2, "kubelet", (NODE_2,), 8.0),  # +1.0
            (3, 103): proc(3, "containerd", (NODE_1,), 1.5),  # +0.5
            # started within the cell: all of it counts, and its children are the OCI runtime's
            (4, 104): proc(4, "containerd-shim-runc-v2", (NODE_1,), 0.2, children=1.5),
            (5, 105): proc(5, "sleep", (NODE_2, "d" * 64), 0.0),
            (9, 109): proc(9, "apiserver", (OTHER,), 90.0),  # not a node: left out
        },
    )
    got = per_pod_ms(before, after, pods=10)
    assert got["all"] == 600.0  # 6 s of the nodes' cgroups over 10 pods
    assert got["kubelet"] == 200.0
    assert got[OCI_RUNTIME] == 150.0
    assert got["containerd"] == 50.0
    assert got["containerd-shim-runc-v2"] == 20.0
    assert got[ENDED] == 180.0  # 6 - (2 + 0.5 + 0.2 + 1.5)
    assert "apiserver" not in got and "pod: sleep" not in got  # nothing spent: left out
    assert list(got)[1:3] == ["kubelet", ENDED]  # the busiest first


def test_no_nodes_or_no_pods_is_no_figure() -> None:
    empty = Sample(0.0, {}, {})
    assert per_pod_ms(empty, empty, pods=10) == {}
    one = Sample(0.0, {NODE_1: 1.0}, {})
    assert per_pod_ms(one, one, pods=0) == {}
