"""A cgroup's figures (the node's, as cAdvisor reads the root container's, or a pod's), CPU
time from cpu.stat
(usage_usec), memory from memory.current and memory.stat (cgroup v2), or cpuacct.usage and
memory.usage_in_bytes (v1). The working set is usage less inactive file pages, as cAdvisor and
the kubelet count it. Where the cgroup has no memory.current (the host's root cgroup), usage is
/proc/meminfo's MemTotal less MemFree."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = "/sys/fs/cgroup"
MEMINFO = "/proc/meminfo"


@dataclass(frozen=True)
class CgroupSample:
    timestamp_ns: int
    cpu_usage_ns: int | None = None
    memory_usage: int | None = None
    memory_working_set: int | None = None
    memory_rss: int | None = None
    page_faults: int | None = None
    major_page_faults: int | None = None
    # The memory the node may use: the cgroup's limit, else the machine's memory.
    memory_limit: int | None = None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _int(text: str | None) -> int | None:
    return int(text.strip()) if text is not None and text.strip().isdigit() else None


def key_values(text: str | None) -> dict[str, int]:
    """ "name value" lines (cpu.stat, memory.stat) or "Name: value kB" ones (meminfo, in
    bytes)."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2 and parts[1].isdigit():
            scale = 1024 if len(parts) > 2 and parts[2] == "kB" else 1
            out[parts[0]] = int(parts[1]) * scale
    return out


def read_node_cgroup(
    root: str = CGROUP_ROOT,
    meminfo: str = MEMINFO,
    clock: Callable[[], int] = time.time_ns,
) -> CgroupSample:
    return read_cgroup("", root, meminfo, clock)


def is_v2(root: str = CGROUP_ROOT) -> bool:
    return (Path(root) / "cgroup.controllers").exists()


def read_cgroup(
    path: str,
    root: str = CGROUP_ROOT,
    meminfo: str = MEMINFO,
    clock: Callable[[], int] = time.time_ns,
) -> CgroupSample:
    """The figures of the cgroup at `path` ("" for the root) in every hierarchy."""
    base = Path(root)
    relative = path.strip("/")
    machine = key_values(_read(Path(meminfo)))
    if is_v2(root):
        return _v2(base / relative, machine, clock())
    return _v1(base, relative, machine, clock())


def _memory_figures(
    usage: int | None, inactive_file: int | None, machine: dict[str, int]
) -> tuple[int | None, int | None]:
    if usage is None and "MemTotal" in machine and "MemFree" in machine:
        usage = machine["MemTotal"] - machine["MemFree"]
        if inactive_file is None:
            inactive_file = machine.get("Inactive(file)")
    if usage is None:
        return None, None
    return usage, max(usage - (inactive_file or 0), 0)


def _v2(base: Path, machine: dict[str, int], now: int) -> CgroupSample:
    cpu = key_values(_read(base / "cpu.stat"))
    memory = key_values(_read(base / "memory.stat"))
    usage, working_set = _memory_figures(
        _int(_read(base / "memory.current")), memory.get("inactive_file"), machine
    )
    limit = _int(_read(base / "memory.max")) or machine.get("MemTotal")
    return CgroupSample(
        timestamp_ns=now,
        cpu_usage_ns=cpu["usage_usec"] * 1000 if "usage_usec" in cpu else None,
        memory_usage=usage,
        memory_working_set=working_set,
        memory_rss=memory.get("anon"),
        page_faults=memory.get("pgfault"),
        major_page_faults=memory.get("pgmajfault"),
        memory_limit=limit,
    )


def _v1(base: Path, relative: str, machine: dict[str, int], now: int) -> CgroupSample:
    memory_dir, cpu_dir = base / "memory" / relative, base / "cpuacct" / relative
    memory = key_values(_read(memory_dir / "memory.stat"))
    usage, working_set = _memory_figures(
        _int(_read(memory_dir / "memory.usage_in_bytes")),
        memory.get("total_inactive_file"),
        machine,
    )
    limit = _int(_read(memory_dir / "memory.limit_in_bytes"))
    total = machine.get("MemTotal")
    return CgroupSample(
        timestamp_ns=now,
        cpu_usage_ns=_int(_read(cpu_dir / "cpuacct.usage")),
        memory_usage=usage,
        memory_working_set=working_set,
        memory_rss=memory.get("total_rss"),
        page_faults=memory.get("total_pgfault"),
        major_page_faults=memory.get("total_pgmajfault"),
        memory_limit=min(limit, total) if limit and total else (limit or total),
    )
