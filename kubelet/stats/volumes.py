"""A pod's volumes in the Summary (statsapi VolumeStats), as the kubelet's volume stat calculator
gives them: for each volume the kubelet made under <root-dir>/pods/<uid>/volumes/<plugin>/<name>
(emptyDir, configMap, secret, downwardAPI, projected, gitRepo: MetricsDu's volumes), the bytes
and inodes used under it, counted as `du` counts them, and the capacity, free bytes and inodes
of the filesystem it is on. Counting walks the volume, so each pod's figures are worked out
again only once they are a minute old (--volume-stats-agg-period), at the stats readings, and a
request answers with the last ones."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

# The kubelet's volume plugins whose directories it counts with du (pkg/volume/metrics_du.go).
COUNTED_PLUGINS = (
    "kubernetes.io~empty-dir",
    "kubernetes.io~configmap",
    "kubernetes.io~secret",
    "kubernetes.io~downward-api",
    "kubernetes.io~projected",
    "kubernetes.io~git-repo",
)
AGGREGATION_PERIOD = 60.0  # --volume-stats-agg-period's default
BLOCK = 512  # st_blocks' unit


@dataclass(frozen=True)
class VolumeUsage:
    name: str
    timestamp_ns: int
    used_bytes: int
    inodes_used: int
    capacity_bytes: int
    available_bytes: int
    inodes: int
    inodes_free: int


def disk_usage(path: Path) -> tuple[int, int]:
    """The bytes (allocated blocks) and inodes under the path, itself included, each inode
    once (`du -s -B1` and `find | wc -l`, as the kubelet's fs.DiskUsage and Find count)."""
    seen: set[tuple[int, int]] = set()
    used = inodes = 0
    for directory, dirs, files in os.walk(path):
        for name in (".", *dirs, *files):
            try:
                st = os.lstat(os.path.join(directory, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            used += st.st_blocks * BLOCK
            inodes += 1
    return used, inodes


def volume_usage(name: str, path: Path, now: float) -> VolumeUsage | None:
    try:
        fs = os.statvfs(path)
    except OSError:
        return None
    used, inodes_used = disk_usage(path)
    return VolumeUsage(
        name=name,
        timestamp_ns=int(now * 1e9),
        used_bytes=used,
        inodes_used=inodes_used,
        capacity_bytes=fs.f_blocks * fs.f_frsize,
        available_bytes=fs.f_bavail * fs.f_frsize,
        inodes=fs.f_files,
        inodes_free=fs.f_ffree,
    )


def pod_volumes(pod_dir: Path, now: float) -> list[VolumeUsage]:
    """Every counted volume of the pod, by name."""
    out = []
    for plugin in COUNTED_PLUGINS:
        try:
            volumes = sorted((pod_dir / "volumes" / plugin).iterdir())
        except OSError:
            continue
        for volume in volumes:
            usage = volume_usage(volume.name, volume, now) if volume.is_dir() else None
            if usage is not None:
                out.append(usage)
    return sorted(out, key=lambda v: v.name)


class VolumeStats:
    """Each pod's volume figures, worked out again once a period old."""

    def __init__(
        self,
        root_dir: str,
        period: float = AGGREGATION_PERIOD,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pods_dir = Path(root_dir) / "pods"
        self.period = period
        self.clock = clock
        self._by_pod: dict[str, tuple[float, list[VolumeUsage]]] = {}

    def refresh(self, uids: Iterable[str]) -> None:
        """Works out the figures of the pods whose last are a period old (or missing); forgets
        the pods not given. Blocking: a thread's work."""
        now = self.clock()
        wanted = set(uids)
        for uid in list(self._by_pod):
            if uid not in wanted:
                del self._by_pod[uid]
        for uid in sorted(wanted):
            known = self._by_pod.get(uid)
            if known is None or now - known[0] >= self.period:
                self._by_pod[uid] = (now, pod_volumes(self.pods_dir / uid, now))

    def of(self, uid: str) -> list[VolumeUsage]:
        known = self._by_pod.get(uid)
        return known[1] if known is not None else []
