"""What starting pods costs on the nodes, process by process: the compose project's node
containers (node-1, node-2, ...) sampled from the host before a cell's first create and once
every pod is Running; each node's CPU from its cgroup, split over its processes by name (the
kubelet, containerd, dockerd, the shims, kube-proxy's pod), the OCI runtime's runs as what the
shims' children spent (runc or crun, each run a child of its shim), and the rest as processes that
ended within the cell (short ones: health checks, mount helpers, the CNI plugins). Summed over the
nodes and divided by the cell's pods: CPU milliseconds per pod."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.common import cpu
from bench.common.compose import Container, containers

# The nodes are at rest when, over QUIET_WINDOW seconds, they spend less than QUIET_CORES of one
# core together (three idle nodes spend about 0.05: their kubelets, containerd, pod processes).
QUIET_CORES = 0.15
QUIET_WINDOW = 2.0

OCI_RUNTIME = "OCI runtime (the shims' children)"
ENDED = "ended within the cell"
_SHIM = "containerd-shim"


@dataclass(frozen=True)
class Sample:
    at: float
    cgroups: dict[str, float]
    processes: dict[tuple[int, int], cpu.Process]


def node_containers(project: str) -> list[Container]:
    """The project's node containers; none where there is no such project (a cluster that is not
    the compose one, or no Docker here)."""
    try:
        found = containers(project)
    except (SystemExit, OSError, subprocess.CalledProcessError):
        return []
    return [c for c in found if c.service.startswith("node-")]


def sample(nodes: list[Container]) -> Sample:
    return Sample(
        time.monotonic(),
        {c.id: cpu.cgroup_seconds(c.pid) for c in nodes},
        cpu.processes(),
    )


async def wait_quiet(
    nodes: list[Container],
    timeout: float = 180.0,
    window: float = QUIET_WINDOW,
    read: Callable[[Container], float] = lambda c: cpu.cgroup_seconds(c.pid),
) -> float:
    """Waits until the nodes are at rest (a cell's pods are gone from the API before the nodes
    have stopped and removed their sandboxes, which would otherwise be measured with the next
    cell), at most `timeout` seconds; the seconds waited. `read` is a node's CPU seconds so far."""
    started = time.monotonic()
    before = {c.id: read(c) for c in nodes}
    while time.monotonic() - started < timeout:
        await asyncio.sleep(window)
        after = {c.id: read(c) for c in nodes}
        if sum(after[n] - before[n] for n in after) < QUIET_CORES * window:
            break
        before = after
    return time.monotonic() - started


def per_pod_ms(before: Sample, after: Sample, pods: int) -> dict[str, float]:
    """CPU milliseconds per pod by process name, over every node, the busiest first; the nodes'
    total under "all"."""
    if pods <= 0 or not before.cgroups:
        return {}
    spent: dict[str, float] = {}
    nodes = set(before.cgroups)
    live = 0.0
    for key, process in after.processes.items():
        if not process.containers or process.containers[0] not in nodes:
            continue
        earlier = before.processes.get(key)
        own = process.cpu_seconds - (earlier.cpu_seconds if earlier else 0.0)
        children = process.children_seconds - (earlier.children_seconds if earlier else 0.0)
        name = f"pod: {process.name}" if len(process.containers) > 1 else process.name
        spent[name] = spent.get(name, 0.0) + own
        live += own
        if name.startswith(_SHIM):
            spent[OCI_RUNTIME] = spent.get(OCI_RUNTIME, 0.0) + children
            live += children
    total = sum(after.cgroups[n] - before.cgroups[n] for n in nodes)
    spent[ENDED] = max(0.0, total - live)
    ranked = sorted(spent.items(), key=lambda kv: -kv[1])
    result = {"all": round(total * 1000 / pods, 1)}
    result.update({name: round(s * 1000 / pods, 1) for name, s in ranked if s * 1000 / pods >= 0.1})
    return result
