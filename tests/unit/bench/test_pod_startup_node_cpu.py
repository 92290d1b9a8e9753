"""The pod start-up benchmark's CPU per pod on the nodes (bench/pod_startup/node_cpu.py): each
node's cgroup delta split over its processes by name, the shims' children as the OCI runtime's
runs, the rest as what ended within the cell; summed over the nodes, per pod. Between cells it
waits for the nodes to be at rest."""

from __future__ import annotations

from collections.abc import Callable

from bench.common.compose import Container
from bench.common.cpu import Process
from bench.pod_startup.node_cpu import ENDED, OCI_RUNTIME, Sample, per_pod_ms, wait_quiet

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


def _reader(rates: dict[str, list[float]]) -> Callable[[Container], float]:
    """A node's CPU seconds so far, growing by the next of its rates (cores) per window."""
    spent = {node: 0.0 for node in rates}

    def read(c: Container) -> float:
        if rates[c.id]:
            spent[c.id] += rates[c.id].pop(0) * WINDOW
        return spent[c.id]

    return read


WINDOW = 0.01
NODES = [Container(NODE_1, 1, "node-1"), Container(NODE_2, 2, "node-2")]


async def test_the_next_cell_waits_until_the_nodes_are_at_rest() -> None:
    # Two windows of teardown (1.2 and 0.4 cores together), then both nodes near idle.
    read = _reader({NODE_1: [0.0, 1.0, 0.3, 0.02], NODE_2: [0.0, 0.2, 0.1, 0.03]})
    waited = await wait_quiet(NODES, timeout=5.0, window=WINDOW, read=read)
    assert 3 * WINDOW <= waited < 1.0


async def test_nodes_that_stay_busy_are_waited_for_at_most_the_timeout() -> None:
    read = _reader({NODE_1: [0.5] * 1000, NODE_2: [0.5] * 1000})
    waited = await wait_quiet(NODES, timeout=0.1, window=WINDOW, read=read)
    assert 0.1 <= waited < 1.0
