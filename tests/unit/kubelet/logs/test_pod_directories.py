"""The log directories of pods that are gone (kubelet/logs/pod_directories.py), as the container
GC's evictPodLogsDirectories removes them."""

from __future__ import annotations

from pathlib import Path

from kubelet.logs.pod_directories import pod_uid_of, remove_dead


def test_the_uid_is_the_last_part_of_the_name() -> None:
    assert pod_uid_of("kube-system_coredns-5d8f_0b1c-22") == "0b1c-22"


def test_only_directories_of_unknown_pods_are_removed(tmp_path: Path) -> None:
    for name in ("default_web-0_uid-a", "default_gone_uid-b", "kube-system_dns_uid-c"):
        (tmp_path / name / "main").mkdir(parents=True)
        (tmp_path / name / "main" / "0.log").write_text("x")
    (tmp_path / "stray-file_uid-d").write_text("not a pod's directory")
    removed = remove_dead(str(tmp_path), {"uid-a", "uid-c"})
    assert removed == ["default_gone_uid-b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "default_web-0_uid-a",
        "kube-system_dns_uid-c",
        "stray-file_uid-d",
    ]


def test_no_log_root_is_nothing_to_remove(tmp_path: Path) -> None:
    assert remove_dead(str(tmp_path / "none"), set()) == []
