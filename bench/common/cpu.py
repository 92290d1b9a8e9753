"""CPU time of a compose project's containers and of the processes inside them, read from the
host: each container's cgroup (every process it ever ran, exited ones included) and each live
process's utime + stime in /proc/PID/stat, which container it runs in told by the container ids
in /proc/PID/cgroup (a pod's container inside a Docker-in-Docker node: the node's id, then the
pod container's)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_CONTAINER_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
# python -m MODULE: the component a Python process is.
_PYTHON_MODULE = re.compile(r"^(?:.*/)?python[0-9.]*$")


@dataclass(frozen=True)
class Process:
    pid: int
    start: int  # starttime, in clock ticks since boot: a reused pid is another process
    name: str
    # The container ids in its cgroup path, outermost first (empty: not in a container).
    containers: tuple[str, ...]
    cpu_seconds: float
    # What its children that ended and were waited for spent (cutime + cstime): a containerd
    # shim's are the OCI runtime's runs (create, start, exec, kill, delete).
    children_seconds: float = 0.0


def parse_stat(text: str) -> tuple[str, float, int, float]:
    """(comm, utime + stime in seconds, starttime, cutime + cstime in seconds) from
    /proc/PID/stat; comm may hold spaces and parentheses, so the fields are counted from its
    closing one."""
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15, cutime and cstime 16
    # and 17, starttime field 22.
    utime, stime, start = int(fields[11]), int(fields[12]), int(fields[19])
    children = int(fields[13]) + int(fields[14])
    return comm, (utime + stime) / CLOCK_TICKS, start, children / CLOCK_TICKS


def name_of(comm: str, argv: list[str]) -> str:
    """What a process is: `python -m kubelet ...` is kubelet, anything else its program's name."""
    if argv and _PYTHON_MODULE.match(argv[0]) and "-m" in argv[:-1]:
        return argv[argv.index("-m") + 1]
    if argv and argv[0]:
        return os.path.basename(argv[0])
    return comm


def container_ids(cgroup: str) -> tuple[str, ...]:
    """The container ids in a /proc/PID/cgroup's paths, outermost first, each once."""
    ids: list[str] = []
    for line in cgroup.splitlines():
        for found in _CONTAINER_ID.findall(line.split(":", 2)[-1]):
            if found not in ids:
                ids.append(found)
    return tuple(ids)


def processes(proc: Path = Path("/proc")) -> dict[tuple[int, int], Process]:
    """Every live process, by (pid, starttime); one that ends while being read is left out."""
    out: dict[tuple[int, int], Process] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm, cpu, start, children = parse_stat((entry / "stat").read_text())
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            cgroup = (entry / "cgroup").read_text()
        except (OSError, ValueError, IndexError):
            continue
        pid = int(entry.name)
        out[(pid, start)] = Process(
            pid, start, name_of(comm, [a for a in argv if a]), container_ids(cgroup), cpu, children
        )
    return out


def cgroup_seconds(
    pid: int, proc: Path = Path("/proc"), root: Path = Path("/sys/fs/cgroup")
) -> float:
    """The CPU time of every process the cgroup of `pid` (a container's first process) ever ran:
    cgroup v2's cpu.stat usage_usec, or v1's cpuacct.usage (nanoseconds)."""
    for line in (proc / str(pid) / "cgroup").read_text().splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        path = path.lstrip("/")
        if hierarchy == "0" and not controllers:
            stat = root / path / "cpu.stat"
            if stat.exists():
                usage = next(
                    field.split()[1]
                    for field in stat.read_text().splitlines()
                    if field.startswith("usage_usec ")
                )
                return int(usage) / 1e6
        if "cpuacct" in controllers.split(","):
            for mount in ("cpuacct", "cpu,cpuacct", "cpuacct,cpu"):
                usage_file = root / mount / path / "cpuacct.usage"
                if usage_file.exists():
                    return int(usage_file.read_text()) / 1e9
    raise FileNotFoundError(f"no CPU accounting found for the cgroup of pid {pid}")


@dataclass(frozen=True)
class HostTimes:
    """The host's CPU seconds since boot."""

    busy: float  # this host's cores at work: its tasks, and interrupts
    steal: float  # time the hypervisor gave another guest: spent by nobody here


def root_cgroup_seconds(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """What every task on the host has run, to the nanosecond: the root cgroup's cpu.stat
    usage_usec (v2) or cpuacct.usage (v1); None where neither is there."""
    stat = root / "cpu.stat"
    if stat.exists():
        for field in stat.read_text().splitlines():
            if field.startswith("usage_usec "):
                return int(field.split()[1]) / 1e6
    for mount in ("cpuacct", "cpu,cpuacct", "cpuacct,cpu"):
        usage = root / mount / "cpuacct.usage"
        if usage.exists():
            return int(usage.read_text()) / 1e9
    return None


def host_times(proc: Path = Path("/proc"), root: Path = Path("/sys/fs/cgroup")) -> HostTimes:
    """/proc/stat's user, nice and system time is charged a whole tick to whatever runs when the
    tick comes, so the many short wake-ups of a host at rest (gRPC's and Go's timers) mostly
    fall in ticks counted idle: it read a quarter less than the root cgroup's run time on the
    idle cluster. The tasks' time is the root cgroup's where there is one, the interrupts' is
    /proc/stat's (irq and softirq are no task's)."""
    fields = (proc / "stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(v) for v in fields] + [0] * 8
    # user nice system idle iowait irq softirq steal (guest time is in user time already).
    tasks = root_cgroup_seconds(root)
    if tasks is None:
        tasks = (ticks[0] + ticks[1] + ticks[2]) / CLOCK_TICKS
    return HostTimes(tasks + (ticks[5] + ticks[6]) / CLOCK_TICKS, ticks[7] / CLOCK_TICKS)


def host_busy_seconds(proc: Path = Path("/proc"), root: Path = Path("/sys/fs/cgroup")) -> float:
    """The CPU time all processors spent busy since boot: not idle, not waiting for I/O, not
    stolen by the hypervisor."""
    return host_times(proc, root).busy


@dataclass(frozen=True)
class Usage:
    """CPU seconds over a window, each as a share of one core."""

    total: float  # the container's cgroup: all it ran
    by_process: dict[str, float]  # live at the end of the window, by name
    short_lived: float  # the rest: processes that ended within the window (health checks, execs)


def usage_by_container(
    before: Mapping[tuple[int, int], Process],
    after: Mapping[tuple[int, int], Process],
    cgroup_delta: Mapping[str, float],
    seconds: float,
) -> dict[str, Usage]:
    """Each container's share of a core over `seconds`: its cgroup's, split over the processes
    alive at the end (one started within the window counts from 0). A process in a container
    inside the container (a pod's, in a Docker-in-Docker node) is named `pod: NAME`."""
    shares: dict[str, dict[str, float]] = {cid: {} for cid in cgroup_delta}
    for key, process in after.items():
        if not process.containers or process.containers[0] not in shares:
            continue
        earlier = before.get(key)
        spent = process.cpu_seconds - (earlier.cpu_seconds if earlier else 0.0)
        name = f"pod: {process.name}" if len(process.containers) > 1 else process.name
        by_name = shares[process.containers[0]]
        by_name[name] = by_name.get(name, 0.0) + spent / seconds
    result = {}
    for cid, total in cgroup_delta.items():
        by_name = dict(sorted(shares[cid].items(), key=lambda kv: -kv[1]))
        share = total / seconds
        result[cid] = Usage(share, by_name, max(0.0, share - sum(by_name.values())))
    return result


# The container engine's own processes on the host: what running the containers costs outside
# them (the shims' children are the OCI runtime's runs, a health check's exec among them).
ENGINE = frozenset(
    {"dockerd", "containerd", "containerd-shim-runc-v2", "docker-proxy", "runc", "crun"}
)


def usage_outside_containers(
    before: Mapping[tuple[int, int], Process],
    after: Mapping[tuple[int, int], Process],
    seconds: float,
) -> dict[str, float]:
    """The share of a core of each host process outside any container, alive at the end of the
    window (one started within it counts from 0), with what its children that ended spent, by
    name, busiest first."""
    by_name: dict[str, float] = {}
    for key, process in after.items():
        if process.containers:
            continue
        earlier = before.get(key)
        spent = process.cpu_seconds + process.children_seconds
        if earlier is not None:
            spent -= earlier.cpu_seconds + earlier.children_seconds
        if spent > 0:
            by_name[process.name] = by_name.get(process.name, 0.0) + spent / seconds
    return dict(sorted(by_name.items(), key=lambda kv: -kv[1]))
