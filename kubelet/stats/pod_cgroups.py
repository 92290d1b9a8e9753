"""A pod's own figures read as cAdvisor reads them, which is where Kubernetes 1.31's kubelet takes
them from by default: the CPU and memory of the pod's cgroup (/kubepods[/burstable|/besteffort]/
pod<uid>, the sandbox's cgroup parent: kubelet/pod/sandbox.py), and the network counters of the
pod's network namespace, /proc/<pid>/net/dev of a process in it (none for a pod on the node's
network, as cAdvisor gives a container sharing the host's namespace none). They are made into
the CRI's PodSandboxStats, what the Summary and the cAdvisor metrics are built from.

Not the CRI's ListPodSandboxStats: containerd answers it by asking each sandbox's shim for its
processes, one `crun ps` a sandbox a call, which cost the nodes more CPU at rest than the
kubelet itself."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kubelet.stats import host
from kubelet.stats.cgroup import CGROUP_ROOT, MEMINFO, is_v2, read_cgroup
from podplane.api.cri import api_pb2 as cri
from podplane.apimachinery.qos import PODS_CGROUP

# Where a pod's cgroup is, by its QoS class: Guaranteed, Burstable, BestEffort.
_TIERS = ("", "/burstable", "/besteffort")
DEFAULT_INTERFACE = "eth0"


def pod_cgroup(uid: str, root: str = CGROUP_ROOT) -> str | None:
    """The pod's cgroup path, found where its class puts it; None if it has none."""
    hierarchy = Path(root) if is_v2(root) else Path(root) / "memory"
    for tier in _TIERS:
        path = f"{PODS_CGROUP}{tier}/pod{uid}"
        if (hierarchy / path.strip("/")).is_dir():
            return path
    return None


def _member(path: str, root: str) -> int | None:
    """A process of the pod: the first in one of its containers' cgroups."""
    pod_dir = (Path(root) if is_v2(root) else Path(root) / "memory") / path.strip("/")
    try:
        children = sorted(p for p in pod_dir.iterdir() if p.is_dir())
    except OSError:
        return None
    for child in children:
        try:
            procs = (child / "cgroup.procs").read_text().split()
        except OSError:
            continue
        if procs:
            return int(procs[0])
    return None


def _own_network(pid: int, proc: str) -> bool:
    """Whether the process has a network namespace of its own, not this process's (the
    node's)."""
    try:
        theirs = os.stat(f"{proc}/{pid}/ns/net").st_ino
        ours = os.stat(f"{proc}/self/ns/net").st_ino
    except OSError:
        return False
    return theirs != ours


def _uint(value: int | None) -> cri.UInt64Value | None:
    return cri.UInt64Value(value=value) if value is not None else None


def _network(pid: int, proc: str, now: int) -> cri.NetworkUsage | None:
    interfaces = host.interfaces(f"{proc}/{pid}/net/dev")
    if not interfaces:
        return None
    usages = [
        cri.NetworkInterfaceUsage(
            name=i.name,
            rx_bytes=_uint(i.rx_bytes),
            rx_errors=_uint(i.rx_errors),
            tx_bytes=_uint(i.tx_bytes),
            tx_errors=_uint(i.tx_errors),
        )
        for i in interfaces
    ]
    default = next((u for u in usages if u.name == DEFAULT_INTERFACE), usages[0])
    return cri.NetworkUsage(timestamp=now, default_interface=default, interfaces=usages)


def read_pod(
    uid: str,
    sandbox_id: str,
    root: str = CGROUP_ROOT,
    proc: str = "/proc",
    meminfo: str = MEMINFO,
    clock: Callable[[], int] = time.time_ns,
) -> cri.PodSandboxStats | None:
    """The pod's figures now, as its sandbox's stats; None if it has no cgroup."""
    path = pod_cgroup(uid, root)
    if path is None:
        return None
    sample = read_cgroup(path, root, meminfo, clock)
    now = sample.timestamp_ns
    linux = cri.LinuxPodSandboxStats(
        cpu=cri.CpuUsage(timestamp=now, usage_core_nano_seconds=_uint(sample.cpu_usage_ns)),
        memory=cri.MemoryUsage(
            timestamp=now,
            working_set_bytes=_uint(sample.memory_working_set),
            usage_bytes=_uint(sample.memory_usage),
            rss_bytes=_uint(sample.memory_rss),
            page_faults=_uint(sample.page_faults),
            major_page_faults=_uint(sample.major_page_faults),
        ),
    )
    pid = _member(path, root)
    if pid is not None and _own_network(pid, proc):
        network = _network(pid, proc, now)
        if network is not None:
            linux.network.CopyFrom(network)
    return cri.PodSandboxStats(attributes=cri.PodSandboxAttributes(id=sandbox_id), linux=linux)


def read_pods(
    sandboxes: Sequence[tuple[str, str]], root: str = CGROUP_ROOT, proc: str = "/proc"
) -> list[cri.PodSandboxStats]:
    """Each (pod uid, sandbox id)'s figures, for the pods that have a cgroup."""
    out = []
    for uid, sandbox_id in sandboxes:
        stats = read_pod(uid, sandbox_id, root, proc)
        if stats is not None:
            out.append(stats)
    return out
