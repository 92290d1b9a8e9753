"""A pod's cgroup removed once its sandbox is gone: from every cgroup v1 hierarchy (or v2's one
tree) where it is empty, kept where something is still in it."""

from __future__ import annotations

from pathlib import Path

from kubelet.runtime.cri import pod_cgroups

POD = "/kubepods/besteffort/pod1234"


def test_an_empty_pod_cgroup_goes_from_every_v1_hierarchy(tmp_path: Path) -> None:
    for controller in ("cpu,cpuacct", "memory", "pids"):
        (tmp_path / controller / POD.strip("/")).mkdir(parents=True)
    pod_cgroups.remove(POD, tmp_path)
    for controller in ("cpu,cpuacct", "memory", "pids"):
        assert not (tmp_path / controller / POD.strip("/")).exists()
        assert (tmp_path / controller / "kubepods" / "besteffort").is_dir()  # the class stays


def test_a_pod_cgroup_with_a_child_is_kept(tmp_path: Path) -> None:
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")  # cgroup v2
    (tmp_path / POD.strip("/") / "abc123").mkdir(parents=True)  # a container still there
    pod_cgroups.remove(POD, tmp_path)
    assert (tmp_path / POD.strip("/") / "abc123").is_dir()
    (tmp_path / POD.strip("/") / "abc123").rmdir()
    pod_cgroups.remove(POD, tmp_path)
    assert not (tmp_path / POD.strip("/")).exists()


def test_no_cgroup_or_one_already_gone_is_nothing_to_do(tmp_path: Path) -> None:
    (tmp_path / "memory").mkdir()
    pod_cgroups.remove("", tmp_path)
    pod_cgroups.remove(POD, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["memory"]
