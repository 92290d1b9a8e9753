"""The node's figures that are not a cgroup's: the filesystem of the kubelet's root directory
(the summary's node.fs), the network interfaces of its network namespace (/proc/net/dev), when
the machine booted (the node's startTime, as cAdvisor's root container has it) and the kubelet
process's own CPU and memory (the "kubelet" system container)."""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

from kubelet.stats.cgroup import key_values

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class FsSample:
    capacity: int
    available: int
    used: int
    inodes: int
    inodes_free: int


@dataclass(frozen=True)
class InterfaceSample:
    name: str
    rx_bytes: int
    rx_errors: int
    tx_bytes: int
    tx_errors: int


def filesystem(path: str) -> FsSample | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    capacity = st.f_blocks * st.f_frsize
    return FsSample(
        capacity=capacity,
        available=st.f_bavail * st.f_frsize,
        used=capacity - st.f_bfree * st.f_frsize,
        inodes=st.f_files,
        inodes_free=st.f_ffree,
    )


def interfaces(net_dev: str = "/proc/net/dev") -> list[InterfaceSample]:
    """Every interface but loopback, by name."""
    try:
        lines = Path(net_dev).read_text().splitlines()[2:]
    except OSError:
        return []
    out = []
    for line in lines:
        name, _, rest = line.partition(":")
        fields = rest.split()
        if name.strip() == "lo" or len(fields) < 11:
            continue
        out.append(
            InterfaceSample(
                name.strip(), int(fields[0]), int(fields[2]), int(fields[8]), int(fields[10])
            )
        )
    return sorted(out, key=lambda i: i.name)


def boot_time(proc_stat: str = "/proc/stat") -> float:
    try:
        return float(key_values(Path(proc_stat).read_text()).get("btime", 0))
    except OSError:
        return 0.0


def process_start_time() -> float:
    """When this process started, from its age in clock ticks since boot."""
    try:
        fields = Path("/proc/self/stat").read_text().rpartition(")")[2].split()
        ticks = int(fields[19])
    except (OSError, IndexError, ValueError):
        return time.time()
    return boot_time() + ticks / os.sysconf("SC_CLK_TCK")


def process_usage() -> tuple[int, int]:
    """This process's CPU time (user and system, ns) and resident memory (bytes)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_ns = int((usage.ru_utime + usage.ru_stime) * 1e9)
    try:
        rss = int(Path("/proc/self/statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        rss = usage.ru_maxrss * 1024
    return cpu_ns, rss
