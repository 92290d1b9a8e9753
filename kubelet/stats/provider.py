"""Gathers what the Summary is made of at each request (the kubelet's SummaryProvider over its
CRI stats provider): the node's cgroup and host figures, and, from a runtime that has the
CRI's stats calls, its running containers' stats, start times, images and log directories, and
each pod's own figures from its cgroup and network namespace (pod_cgroups.py).
usageNanoCores are worked out against the previous request's readings (and a reading every
housekeeping period, as the kubelet's eviction manager asks for one), unless the
runtime gives them. A runtime without the stats calls (the Docker and hollow runtimes) has its
pods listed without container figures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from kubelet.runtime.types import ContainerRuntime, ContainerState, ContainerStatus, SandboxStatus
from kubelet.stats import host
from kubelet.stats import summary as build
from kubelet.stats.cgroup import CGROUP_ROOT, read_node_cgroup
from kubelet.stats.cpu_usage import NanoCoresCache
from kubelet.stats.pod_cgroups import read_pods
from kubelet.stats.volumes import VolumeStats
from podplane.api.cri import api_pb2 as cri
from podplane.apimachinery.json_types import JSONObject

NODE_KEY = "/"  # the node's cgroup in the usage cache (cAdvisor's root container name)
KUBELET_KEY = "/kubelet"
# How old a reading /metrics/cadvisor may serve: the kubelet reads every 10 s
# (Kubelet._stats_readings), as cAdvisor's housekeeping refreshes the cache it serves from.
RECENT_READING = 15.0


class CriStatsCalls(Protocol):
    pod_logs_root: str

    async def list_container_stats(self) -> list[cri.ContainerStats]: ...

    async def image_fs_info(self) -> list[cri.FilesystemUsage]: ...


@runtime_checkable
class WithStats(Protocol):
    """A runtime that answers the CRI's stats calls (kubelet/runtime/cri/stats.py)."""

    stats: CriStatsCalls


@dataclass(frozen=True)
class PodSamples:
    """One request's readings of the node's pods: what the Summary and the cAdvisor metrics are
    made of."""

    pods: list[build.PodInput]
    images: dict[str, str]  # container id -> image
    sandbox_ids: dict[str, str]  # pod uid -> sandbox id


def log_usage(directory: Path) -> tuple[int, int] | None:
    """The bytes and files under a container's log directory."""
    if not directory.is_dir():
        return None
    used = files = 0
    for path in directory.rglob("*"):
        try:
            used += path.stat().st_size
            files += 1
        except OSError:
            continue
    return used, files


class StatsProvider:
    def __init__(
        self,
        node_name: str,
        runtime: ContainerRuntime,
        root_dir: str,
        cgroup_root: str = CGROUP_ROOT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.node_name = node_name
        self.runtime = runtime
        self.calls = runtime.stats if isinstance(runtime, WithStats) else None
        self.root_dir = root_dir
        self.cgroup_root = cgroup_root
        self.usage = NanoCoresCache()
        self._boot = host.boot_time()
        self._kubelet_start = host.process_start_time()
        self.volumes = VolumeStats(root_dir)
        self._clock = clock
        self._latest: tuple[float, tuple[build.NodeInput, PodSamples]] | None = None

    def _node(self, image_fs: list[cri.FilesystemUsage]) -> build.NodeInput:
        cgroup = read_node_cgroup(self.cgroup_root)
        nano = None
        if cgroup.cpu_usage_ns is not None:
            nano = self.usage.update(NODE_KEY, cgroup.timestamp_ns, cgroup.cpu_usage_ns)
        images = image_fs[0] if image_fs else None
        return build.NodeInput(
            name=self.node_name,
            start_time=build.go_time(int(self._boot * 1e9)),
            cgroup=cgroup,
            nano_cores=nano,
            root_fs=host.filesystem(self.root_dir),
            image_fs=host.filesystem(images.fs_id.mountpoint) if images else None,
            images_used=(images.used_bytes.value, images.inodes_used.value) if images else None,
            interfaces=host.interfaces(),
            system_containers=[self._kubelet_container(cgroup.timestamp_ns)],
        )

    def _kubelet_container(self, now: int) -> JSONObject:
        """The "kubelet" system container: this process's CPU and memory."""
        cpu_ns, rss = host.process_usage()
        return {
            "name": "kubelet",
            "startTime": build.go_time(int(self._kubelet_start * 1e9)),
            "cpu": build.cpu(now, cpu_ns, self.usage.update(KUBELET_KEY, now, cpu_ns)),
            "memory": build.memory(now, usage=rss, working_set=rss, rss=rss),
        }

    async def _runtime_reads(
        self,
    ) -> tuple[
        list[cri.ContainerStats],
        list[cri.PodSandboxStats],
        list[cri.FilesystemUsage],
        list[ContainerStatus],
        list[SandboxStatus],
    ]:
        if self.calls is None:
            sandboxes = await self.runtime.list_pod_sandboxes()
            return [], [], [], [], sandboxes
        stats, image_fs, containers, sandboxes = await asyncio.gather(
            self.calls.list_container_stats(),
            self.calls.image_fs_info(),
            self.runtime.list_containers(),
            self.runtime.list_pod_sandboxes(),
        )
        ready = [(s.pod.uid, s.id) for s in sandboxes if s.ready]
        sandbox_stats = await asyncio.to_thread(read_pods, ready, self.cgroup_root)
        return stats, sandbox_stats, image_fs, containers, sandboxes

    async def read(self) -> tuple[build.NodeInput, PodSamples]:
        """The node's and its pods' readings now; raises ContainerRuntimeError."""
        stats, sandbox_stats, image_fs, containers, sandboxes = await self._runtime_reads()
        node = await asyncio.to_thread(self._node, image_fs)
        await asyncio.to_thread(self.volumes.refresh, {s.pod.uid for s in sandboxes if s.ready})
        pods = self._pods(stats, sandbox_stats, containers, sandboxes)
        self.usage.keep_only(
            [NODE_KEY, KUBELET_KEY, *(s.attributes.id for s in stats)]
            + [s.attributes.id for s in sandbox_stats]
        )
        self._latest = (self._clock(), (node, pods))
        return node, pods

    async def recent(self, max_age: float = RECENT_READING) -> tuple[build.NodeInput, PodSamples]:
        """The last reading if it is at most max_age seconds old, else a new one: what
        /metrics/cadvisor serves, as cAdvisor serves its metrics from the cache its housekeeping
        refreshes, where /stats/summary and /metrics/resource read anew (the CRI stats
        provider's ListContainerStats at each request). A reading asks the runtime for every
        container's stats, which containerd asks of each container's shim."""
        if self._latest is not None and self._clock() - self._latest[0] <= max_age:
            return self._latest[1]
        return await self.read()

    async def summary(self) -> JSONObject:
        node, pods = await self.read()
        return build.summary(node, pods.pods)

    async def update(self) -> None:
        """A reading for the next request's usageNanoCores (the eviction manager's every 10 s)."""
        await self.read()

    def _pods(
        self,
        stats: Sequence[cri.ContainerStats],
        sandbox_stats: Sequence[cri.PodSandboxStats],
        containers: Sequence[ContainerStatus],
        sandboxes: Sequence[SandboxStatus],
    ) -> PodSamples:
        running = {c.id: c for c in containers if c.state == ContainerState.RUNNING}
        by_sandbox = {s.attributes.id: s for s in sandbox_stats}
        # Each pod's newest ready sandbox, as the kubelet lists the pods that run.
        latest: dict[str, SandboxStatus] = {}
        for sandbox in sorted(sandboxes, key=lambda s: (s.attempt, s.created_at)):
            if sandbox.ready:
                latest[sandbox.pod.uid] = sandbox
        pods = []
        for uid, sandbox in sorted(latest.items(), key=lambda kv: kv[1].pod.key):
            inputs = [
                self._container(s, running[s.attributes.id], sandbox)
                for s in stats
                if s.attributes.id in running and running[s.attributes.id].pod.uid == uid
            ]
            sandbox_stat = by_sandbox.get(sandbox.id)
            pods.append(
                build.PodInput(
                    name=sandbox.pod.name,
                    namespace=sandbox.pod.namespace,
                    uid=uid,
                    start_time=sandbox.created_at,
                    containers=sorted(inputs, key=lambda c: c.stats.attributes.metadata.name),
                    sandbox=sandbox_stat,
                    volumes=self.volumes.of(uid),
                    sandbox_nano_cores=self._nano(sandbox.id, sandbox_stat.linux.cpu)
                    if sandbox_stat is not None and sandbox_stat.linux.HasField("cpu")
                    else None,
                )
            )
        return PodSamples(
            pods,
            {c.id: c.image for c in running.values()},
            {uid: s.id for uid, s in latest.items()},
        )

    def _nano(self, key: str, usage: cri.CpuUsage) -> int | None:
        if usage.HasField("usage_nano_cores"):  # the runtime's own figure, as the kubelet takes it
            return int(usage.usage_nano_cores.value)
        if not usage.HasField("usage_core_nano_seconds"):
            return None
        return self.usage.update(key, usage.timestamp, usage.usage_core_nano_seconds.value)

    def _container(
        self, stats: cri.ContainerStats, status: ContainerStatus, sandbox: SandboxStatus
    ) -> build.ContainerInput:
        logs = None
        if self.calls is not None:
            pod = sandbox.pod
            directory = Path(self.calls.pod_logs_root) / f"{pod.namespace}_{pod.name}_{pod.uid}"
            logs = log_usage(directory / status.name)
        return build.ContainerInput(
            stats=stats,
            start_time=status.started_at or status.created_at,
            nano_cores=self._nano(stats.attributes.id, stats.cpu)
            if stats.HasField("cpu")
            else None,
            logs=logs,
        )
