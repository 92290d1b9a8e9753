"""The node's pressure conditions, from the kubelet's hard eviction thresholds
(pkg/kubelet/eviction): MemoryPressure when memory.available < 100Mi, DiskPressure when
nodefs.available < 10% (the file system of the kubelet's root directory), PIDPressure when
pid.available < 10% of pid_max (Kubernetes sets no default for pids; this is the usual setting).
Memory is MemAvailable of /proc/meminfo; processes are the kernel's scheduling entities of
/proc/loadavg, as the kubelet's pidlimit does."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MEMORY_AVAILABLE_MIN_BYTES = 100 * 1024 * 1024
NODEFS_AVAILABLE_MIN_FRACTION = 0.10
PID_AVAILABLE_MIN_FRACTION = 0.10


@dataclass(frozen=True)
class NodeStats:
    """What the thresholds are checked against; None is "not known" (never pressure)."""

    memory_available_bytes: int | None = None
    nodefs_available_bytes: int | None = None
    nodefs_capacity_bytes: int | None = None
    pid_max: int | None = None
    processes: int | None = None


@dataclass(frozen=True)
class Pressure:
    memory: bool = False
    disk: bool = False
    pid: bool = False


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def memory_available_bytes(meminfo: str) -> int | None:
    for line in meminfo.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def processes_from_loadavg(loadavg: str) -> int | None:
    """The 4th field of /proc/loadavg is running/total; total counts every thread."""
    parts = loadavg.split()
    if len(parts) < 4 or "/" not in parts[3]:
        return None
    try:
        return int(parts[3].split("/")[1])
    except ValueError:
        return None


def read_node_stats(root_dir: str) -> NodeStats:
    disk_free = disk_total = None
    try:
        st = os.statvfs(root_dir if os.path.exists(root_dir) else "/")
        disk_free, disk_total = st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize
    except OSError:
        pass
    pid_max_text = _read("/proc/sys/kernel/pid_max").strip()
    return NodeStats(
        memory_available_bytes=memory_available_bytes(_read("/proc/meminfo")),
        nodefs_available_bytes=disk_free,
        nodefs_capacity_bytes=disk_total,
        pid_max=int(pid_max_text) if pid_max_text.isdigit() else None,
        processes=processes_from_loadavg(_read("/proc/loadavg")),
    )


def pressure(stats: NodeStats) -> Pressure:
    memory = (
        stats.memory_available_bytes is not None
        and stats.memory_available_bytes < MEMORY_AVAILABLE_MIN_BYTES
    )
    disk = (
        stats.nodefs_available_bytes is not None
        and bool(stats.nodefs_capacity_bytes)
        and stats.nodefs_available_bytes
        < NODEFS_AVAILABLE_MIN_FRACTION * (stats.nodefs_capacity_bytes or 0)
    )
    pid = (
        stats.pid_max is not None
        and stats.processes is not None
        and stats.pid_max - stats.processes < PID_AVAILABLE_MIN_FRACTION * stats.pid_max
    )
    return Pressure(memory=memory, disk=disk, pid=pid)


def pressure_conditions(p: Pressure) -> list[tuple[str, str, str, str]]:
    """(type, status, reason, message) of the three conditions, as the kubelet words them."""
    return [
        (
            "MemoryPressure",
            "True",
            "KubeletHasInsufficientMemory",
            "kubelet has insufficient memory available",
        )
        if p.memory
        else (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        ("DiskPressure", "True", "KubeletHasDiskPressure", "kubelet has disk pressure")
        if p.disk
        else ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        (
            "PIDPressure",
            "True",
            "KubeletHasInsufficientPID",
            "kubelet has insufficient PID available",
        )
        if p.pid
        else (
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
    ]
