"""/metrics/cadvisor is served from the kubelet's last reading while it is recent, as cAdvisor
serves its metrics from the cache its housekeeping refreshes: a scrape between two readings asks
the runtime (and through containerd every container's shim) for nothing."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from kubelet.runtime.types import ContainerRuntime, ContainerStatus, SandboxStatus
from kubelet.stats.provider import RECENT_READING, StatsProvider
from podplane.api.cri import api_pb2 as cri


class CountingStats:
    pod_logs_root = "/nonexistent"

    def __init__(self) -> None:
        self.calls = 0

    async def list_container_stats(self) -> list[cri.ContainerStats]:
        self.calls += 1
        return []

    async def image_fs_info(self) -> list[cri.FilesystemUsage]:
        return []


class Runtime:
    def __init__(self) -> None:
        self.stats = CountingStats()

    async def list_containers(self, pod_uid: str | None = None) -> list[ContainerStatus]:
        return []

    async def list_pod_sandboxes(self, pod_uid: str | None = None) -> list[SandboxStatus]:
        return []


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_scrape_between_readings_reuses_the_last_and_a_stale_one_reads_anew(
    tmp_path: Path,
) -> None:
    runtime, clock = Runtime(), Clock()
    provider = StatsProvider(
        "node-1",
        cast(ContainerRuntime, runtime),
        str(tmp_path),
        cgroup_root=str(tmp_path / "cgroup"),
        clock=clock,
    )
    first = await provider.recent()  # nothing read yet: a reading now
    assert runtime.stats.calls == 1

    await provider.update()  # the every-10-s reading
    assert runtime.stats.calls == 2
    clock.now += RECENT_READING
    again = await provider.recent()
    assert runtime.stats.calls == 2
    assert again is not first  # the update's reading, not the first

    clock.now += 0.1
    await provider.recent()
    assert runtime.stats.calls == 3  # older than RECENT_READING: read anew

    # /stats/summary and /metrics/resource read at each request, as the CRI stats provider does.
    await provider.summary()
    assert runtime.stats.calls == 4
