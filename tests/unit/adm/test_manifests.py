"""The control plane's static pod manifests (`python -m adm manifests`, adm/manifests.py): four
pods the kubelet reads and the apiserver accepts as mirror pods, an etcd member per machine that
knows every other, apiservers that talk to every member, and a second run that leaves unchanged
files alone (the kubelet restarts a static pod whose file changes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adm.__main__ import main
from adm.markcontrolplane import CONTROL_PLANE_LABEL, mark, marked
from apiserver.defaulting.pod import pod as default_pod
from apiserver.validation.pod import pod_create
from kubelet.staticpod.manifests import read_manifest
from podplane.api.core.v1 import core_pb2

MEMBERS = "cp-1=10.250.0.11,cp-2=10.250.0.12,cp-3=10.250.0.13"


def write(out: Path, node: str = "cp-2") -> int:
    return main(["manifests", "--node", node, "--members", MEMBERS, "--out", str(out)])


def flags(pod: core_pb2.Pod) -> dict[str, str]:
    return dict(
        arg.removeprefix("--").split("=", 1)
        for arg in pod.spec.containers[0].command
        if arg.startswith("--") and "=" in arg
    )


def test_four_host_network_pods_the_kubelet_reads_and_the_apiserver_accepts(
    tmp_path: Path,
) -> None:
    assert write(tmp_path) == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [
        "etcd.yaml",
        "kube-apiserver.yaml",
        "kube-controller-manager.yaml",
        "kube-scheduler.yaml",
    ]
    for name in files:
        pod = read_manifest(tmp_path / name, "cp-2")
        component = name.removesuffix(".yaml")
        assert pod.metadata.name == f"{component}-cp-2"
        assert pod.metadata.namespace == "kube-system"
        assert dict(pod.metadata.labels) == {"component": component, "tier": "control-plane"}
        assert pod.spec.host_network and pod.spec.node_name == "cp-2"
        assert pod.spec.priority_class_name == "system-node-critical"
        default_pod(pod)  # as the apiserver does before it validates the mirror pod
        assert pod_create(pod) == []


def test_each_etcd_member_knows_the_cluster_and_each_apiserver_every_member(
    tmp_path: Path,
) -> None:
    write(tmp_path)
    etcd = flags(read_manifest(tmp_path / "etcd.yaml", "cp-2"))
    assert etcd["name"] == "cp-2"
    assert etcd["initial-cluster"] == (
        "cp-1=https://10.250.0.11:2380,cp-2=https://10.250.0.12:2380,cp-3=https://10.250.0.13:2380"
    )
    assert etcd["listen-peer-urls"] == "https://10.250.0.12:2380"
    assert etcd["peer-client-cert-auth"] == "true"
    apiserver = flags(read_manifest(tmp_path / "kube-apiserver.yaml", "cp-2"))
    assert apiserver["etcd-servers"] == "https://127.0.0.1:2379"  # its own machine's member
    assert apiserver["advertise-address"] == "10.250.0.12"
    for component in ("kube-controller-manager", "kube-scheduler"):
        assert flags(read_manifest(tmp_path / f"{component}.yaml", "cp-2"))["server"] == (
            "127.0.0.1:6443"
        )


def test_a_second_run_rewrites_only_what_changed(tmp_path: Path) -> None:
    write(tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    edited = tmp_path / "kube-scheduler.yaml"
    edited.write_text(edited.read_text().replace("cpu: 100m", "cpu: 150m"))
    write(tmp_path)
    after = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert "cpu: 100m" in edited.read_text()
    assert {n for n in before if before[n] != after[n]} == {"kube-scheduler.yaml"}


def test_a_node_that_is_not_a_member_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert write(tmp_path, node="cp-9") == 2
    assert "--node: cp-9 is not one of --members" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_marking_a_control_plane_node_labels_and_taints_it_once() -> None:
    node = core_pb2.Node()
    node.metadata.labels["kubernetes.io/hostname"] = "cp-1"
    assert not marked(node)
    mark(node)
    mark(node)
    assert marked(node)
    assert node.metadata.labels[CONTROL_PLANE_LABEL] == ""
    assert [(t.key, t.effect) for t in node.spec.taints] == [(CONTROL_PLANE_LABEL, "NoSchedule")]
