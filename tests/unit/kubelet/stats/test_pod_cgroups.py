"""A pod's own figures from its cgroup (found under its QoS class's tier, cgroup v1 or v2) and
its network namespace's counters (none for a pod on the node's network), as the kubelet reads
them instead of the CRI's ListPodSandboxStats."""

from __future__ import annotations

import os
from pathlib import Path

from kubelet.stats import pod_cgroups

UID = "1234-abcd"
NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    5000      40    2    0    0     0          0         0     7000      50    1    0    0     0       0          0
"""  # noqa: E501
MEMINFO = "MemTotal: 1000 kB\nMemFree: 500 kB\n"


def fake_proc(tmp_path: Path, pid: int, own_netns: bool) -> Path:
    proc = tmp_path / "proc"
    (proc / str(pid) / "net").mkdir(parents=True)
    (proc / str(pid) / "net" / "dev").write_text(NET_DEV)
    (proc / str(pid) / "ns").mkdir()
    (proc / "self" / "ns").mkdir(parents=True)
    (proc / "self" / "ns" / "net").write_text("node")
    target = proc / str(pid) / "ns" / "net"
    if own_netns:
        target.write_text("pod")
    else:
        os.link(proc / "self" / "ns" / "net", target)  # the same inode: the node's namespace
    return proc


def v1_pod(root: Path, tier: str, pid: int) -> None:
    pod = f"kubepods{tier}/pod{UID}"
    memory, cpu = root / "memory" / pod, root / "cpuacct" / pod
    (memory / "pause").mkdir(parents=True)
    cpu.mkdir(parents=True)
    (memory / "memory.usage_in_bytes").write_text("300000\n")
    (memory / "memory.stat").write_text("total_inactive_file 100000\ntotal_rss 150000\n")
    (memory / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (memory / "pause" / "cgroup.procs").write_text(f"{pid}\n")
    (cpu / "cpuacct.usage").write_text("123456789\n")


def test_a_burstable_pods_cgroup_and_network_on_cgroup_v1(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    v1_pod(root, "/burstable", 42)
    proc = fake_proc(tmp_path, 42, own_netns=True)
    stats = pod_cgroups.read_pod(UID, "sb-1", str(root), str(proc), clock=lambda: 7)
    assert stats is not None
    assert stats.attributes.id == "sb-1"
    linux = stats.linux
    assert (linux.cpu.timestamp, linux.cpu.usage_core_nano_seconds.value) == (7, 123456789)
    assert linux.memory.usage_bytes.value == 300000
    assert linux.memory.working_set_bytes.value == 200000  # less the inactive file pages
    assert linux.memory.rss_bytes.value == 150000
    assert [i.name for i in linux.network.interfaces] == ["eth0"]  # not loopback
    eth0 = linux.network.default_interface
    assert (eth0.name, eth0.rx_bytes.value, eth0.rx_errors.value) == ("eth0", 5000, 2)
    assert (eth0.tx_bytes.value, eth0.tx_errors.value) == (7000, 1)


def test_a_pod_on_the_nodes_network_has_no_network_figures(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    v1_pod(root, "/besteffort", 43)
    proc = fake_proc(tmp_path, 43, own_netns=False)
    stats = pod_cgroups.read_pod(UID, "sb-2", str(root), str(proc))
    assert stats is not None
    assert stats.linux.HasField("cpu") and not stats.linux.HasField("network")


def test_a_guaranteed_pods_cgroup_on_cgroup_v2(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    pod = root / "kubepods" / f"pod{UID}"
    (pod / "ctr").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory\n")
    (pod / "cpu.stat").write_text("usage_usec 2500\n")
    (pod / "memory.current").write_text("4096\n")
    (pod / "memory.stat").write_text("inactive_file 1024\nanon 2048\n")
    (pod / "ctr" / "cgroup.procs").write_text("")
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(MEMINFO)
    assert pod_cgroups.pod_cgroup(UID, str(root)) == f"/kubepods/pod{UID}"
    stats = pod_cgroups.read_pod(UID, "sb-3", str(root), str(tmp_path), str(meminfo))
    assert stats is not None
    assert stats.linux.cpu.usage_core_nano_seconds.value == 2_500_000
    assert stats.linux.memory.working_set_bytes.value == 3072
    assert not stats.linux.HasField("network")  # no process to read it from


def test_pods_without_a_cgroup_are_left_out(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    v1_pod(root, "", 44)
    found = pod_cgroups.read_pods([(UID, "sb-4"), ("gone", "sb-5")], str(root), str(tmp_path))
    assert [s.attributes.id for s in found] == ["sb-4"]
