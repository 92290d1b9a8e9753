"""A pod's volumes in the Summary: each volume the kubelet made for it (emptyDir, configMap,
secret, ...) with the bytes and inodes under it counted as du counts them and its filesystem's
capacity, worked out again only once a minute old; the pod's ephemeral storage counts them."""

from __future__ import annotations

import os
from pathlib import Path

from kubelet.stats import summary
from kubelet.stats.volumes import VolumeStats, disk_usage, pod_volumes

UID = "uid-1"


def make_pod(root: Path) -> Path:
    pod = root / "pods" / UID
    scratch = pod / "volumes" / "kubernetes.io~empty-dir" / "scratch"
    (scratch / "sub").mkdir(parents=True)
    (scratch / "data").write_bytes(b"x" * 10000)
    os.link(scratch / "data", scratch / "sub" / "same-data")  # one inode, counted once
    config = pod / "volumes" / "kubernetes.io~configmap" / "settings"
    config.mkdir(parents=True)
    (config / "key").write_text("value")
    (pod / "volumes" / "kubernetes.io~nfs" / "remote").mkdir(parents=True)  # not counted
    return pod


def test_du_counts_blocks_and_inodes_each_once(tmp_path: Path) -> None:
    pod = make_pod(tmp_path)
    scratch = pod / "volumes" / "kubernetes.io~empty-dir" / "scratch"
    used, inodes = disk_usage(scratch)
    assert inodes == 3  # scratch, sub, data (and its second name)
    blocks = sum(os.lstat(p).st_blocks for p in (scratch, scratch / "sub", scratch / "data"))
    assert used == blocks * 512


def test_the_pods_counted_volumes_by_name(tmp_path: Path) -> None:
    volumes = pod_volumes(make_pod(tmp_path), now=1_700_000_000.0)
    assert [v.name for v in volumes] == ["scratch", "settings"]
    fs = os.statvfs(tmp_path)
    for v in volumes:
        assert v.capacity_bytes == fs.f_blocks * fs.f_frsize and v.inodes == fs.f_files
        assert v.used_bytes > 0 and v.inodes_used > 0
    assert volumes[0].timestamp_ns == 1_700_000_000 * 10**9


def test_figures_are_worked_out_again_once_a_period_old(tmp_path: Path) -> None:
    make_pod(tmp_path)
    now = [1000.0]
    stats = VolumeStats(str(tmp_path), period=60, clock=lambda: now[0])
    stats.refresh([UID])
    first = stats.of(UID)
    scratch = tmp_path / "pods" / UID / "volumes" / "kubernetes.io~empty-dir" / "scratch"
    (scratch / "more").write_bytes(b"y" * 50000)
    now[0] += 59
    stats.refresh([UID])
    assert stats.of(UID) == first  # not a minute old yet
    now[0] += 1
    stats.refresh([UID])
    assert stats.of(UID)[0].inodes_used == first[0].inodes_used + 1
    stats.refresh([])
    assert stats.of(UID) == []  # a pod gone is forgotten


def test_the_summary_lists_the_volumes_and_its_ephemeral_storage_counts_them(
    tmp_path: Path,
) -> None:
    volumes = pod_volumes(make_pod(tmp_path), now=1_700_000_000.0)
    pod = summary.PodInput(
        name="web", namespace="shop", uid=UID, start_time="2026-11-27T00:00:00Z", volumes=volumes
    )
    out = summary.pod(pod, None, None)
    assert out["volume"] == [
        {
            "time": "2023-11-14T22:13:20Z",
            "availableBytes": v.available_bytes,
            "capacityBytes": v.capacity_bytes,
            "usedBytes": v.used_bytes,
            "inodesFree": v.inodes_free,
            "inodes": v.inodes,
            "inodesUsed": v.inodes_used,
            "name": v.name,
        }
        for v in volumes
    ]
    storage = summary._ephemeral_storage([], volumes, None)
    assert storage["usedBytes"] == sum(v.used_bytes for v in volumes)
    assert storage["inodesUsed"] == sum(v.inodes_used for v in volumes)
