"""Static pods from a manifest directory: their names, their uid (a stable hash of the file and the
node), defaults, and what a change, a removal or a bad file does."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelet.config import parse_args
from kubelet.staticpod.manifests import (
    CONFIG_HASH_ANNOTATION,
    CONFIG_SOURCE_ANNOTATION,
    StaticPodSource,
    is_static_pod,
    read_manifest_dir,
)
from tests.unit.kubelet.podbuild import WEB

JSON_POD = (
    '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "data"},'
    ' "spec": {"containers": [{"name": "db", "image": "busybox:1.36"}]}}'
)


def test_each_manifest_is_a_pod_named_after_the_node(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(WEB)
    (tmp_path / "db.json").write_text(JSON_POD)
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / ".web.yaml.swp").write_text(WEB)
    pods = read_manifest_dir(tmp_path, "node-1")
    assert sorted(pods) == ["data/db-node-1", "default/web-node-1"]
    web = pods["default/web-node-1"]
    assert (web.metadata.name, web.metadata.namespace, web.spec.node_name) == (
        "web-node-1",
        "default",
        "node-1",
    )
    assert web.metadata.annotations[CONFIG_SOURCE_ANNOTATION] == "file"
    assert web.metadata.annotations[CONFIG_HASH_ANNOTATION] == web.metadata.uid
    assert len(web.metadata.uid) == 32 and is_static_pod(web)


def test_the_apiservers_defaults_are_applied(tmp_path: Path) -> None:
    (tmp_path / "web.yml").write_text(WEB)
    web = read_manifest_dir(tmp_path, "node-1")["default/web-node-1"]
    assert web.spec.restart_policy == "Always"
    assert web.spec.termination_grace_period_seconds == 30
    assert web.spec.containers[0].image_pull_policy == "Always"  # busybox is :latest
    assert [(t.operator, t.effect) for t in web.spec.tolerations] == [("Exists", "NoExecute")]


def test_uid_is_stable_per_content_and_node(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(WEB)
    first = read_manifest_dir(tmp_path, "node-1")["default/web-node-1"].metadata.uid
    again = read_manifest_dir(tmp_path, "node-1")["default/web-node-1"].metadata.uid
    other_node = read_manifest_dir(tmp_path, "node-2")["default/web-node-2"].metadata.uid
    (tmp_path / "web.yaml").write_text(WEB.replace("3600", "60"))
    changed = read_manifest_dir(tmp_path, "node-1")["default/web-node-1"].metadata.uid
    assert first == again
    assert len({first, other_node, changed}) == 3


def test_bad_files_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text(WEB)
    (tmp_path / "typo.yaml").write_text(WEB.replace("image:", "imagee:").replace("web", "typo"))
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n")
    (tmp_path / "broken.yaml").write_text("kind: [\n")
    (tmp_path / "twice.yaml").write_text(WEB)  # the same pod as web.yaml
    assert list(read_manifest_dir(tmp_path, "n")) == ["default/web-n"]


def test_missing_directory_has_no_pods(tmp_path: Path) -> None:
    assert read_manifest_dir(tmp_path / "absent", "n") == {}


def test_source_reports_additions_changes_and_removals(tmp_path: Path) -> None:
    reported: list[str] = []
    source = StaticPodSource(str(tmp_path), "n", on_change=reported.append)
    assert source.sync() == set() and not source.changed_on_disk()
    (tmp_path / "web.yaml").write_text(WEB)
    assert source.changed_on_disk()
    assert source.sync() == {"default/web-n"}
    uid = source.pods["default/web-n"].metadata.uid
    assert source.sync() == set()  # nothing changed
    (tmp_path / "web.yaml").write_text(WEB.replace("3600", "7200"))
    assert source.sync() == {"default/web-n"}
    assert source.get("default/web-n") is not None
    assert source.pods["default/web-n"].metadata.uid != uid
    (tmp_path / "web.yaml").unlink()
    assert source.sync() == {"default/web-n"}
    assert source.get("default/web-n") is None and source.list() == []
    assert reported == ["default/web-n"] * 3


REQUIRED = ["--server", "127.0.0.1:6443", "--node-name", "n", "--pod-cidr", "10.244.1.0/24"]


def test_manifest_path_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_args(REQUIRED).pod_manifest_path == ""  # off by default
    assert (
        parse_args(
            [*REQUIRED, "--pod-manifest-path", "/etc/kubernetes/manifests"]
        ).pod_manifest_path
        == "/etc/kubernetes/manifests"
    )
    with pytest.raises(SystemExit) as exit_info:
        parse_args([*REQUIRED, "--pod-manifest-path", "manifests"])
    assert exit_info.value.code == 2
    assert "error: --pod-manifest-path:" in capsys.readouterr().err
