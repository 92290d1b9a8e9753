"""`describe pv`, `describe pvc` and `describe storageclass` print kubectl's layouts; a pod's
claim volume too."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podctl.__main__ import run
from podctl.describe.pod import write_volumes
from podctl.describe.storage import (
    claim_users,
    describe_persistent_volume,
    describe_persistent_volume_claim,
    describe_storage_class,
)
from podctl.describe.writer import PrefixWriter
from podplane.api.core.v1 import core_pb2
from tests.unit.machinery.printers.samples import (
    NOW,
    PERSISTENT_VOLUME,
    PERSISTENT_VOLUME_CLAIM,
    STORAGE_CLASS,
)
from tests.unit.podctl.fakes import FakeClient


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_describe_persistent_volume() -> None:
    assert describe_persistent_volume(PERSISTENT_VOLUME, [], NOW).splitlines() == [
        "Name:              pvc-1a2b",
        "Labels:            <none>",
        "Annotations:       <none>",
        "Finalizers:        [kubernetes.io/pv-protection]",
        "StorageClass:      standard",
        "Status:            Bound",
        "Claim:             default/data",
        "Reclaim Policy:    Delete",
        "Access Modes:      RWO",
        "VolumeMode:        Filesystem",
        "Capacity:          2Gi",
        "Node Affinity:     ",
        "  Required Terms:  ",
        "    Term 0:        kubernetes.io/hostname in [node-1]",
        "Message:           ",
        "Source:",
        "    Type:          HostPath (bare host directory volume)",
        "    Path:          /var/local-path-provisioner/pvc-1a2b_default_data",
        "    HostPathType:  DirectoryOrCreate",
        "Events:            <none>",
    ]


def _pod(name: str, claim: str) -> core_pb2.Pod:
    pod = core_pb2.Pod()
    pod.metadata.name = name
    pod.spec.volumes.add(name="v").persistent_volume_claim.claim_name = claim
    return pod


def test_describe_persistent_volume_claim() -> None:
    pods = claim_users(
        [_pod("web-2", "data"), _pod("other", "logs"), _pod("web-1", "data")], "data"
    )
    assert describe_persistent_volume_claim(
        PERSISTENT_VOLUME_CLAIM, pods, [], NOW
    ).splitlines() == [
        "Name:          data",
        "Namespace:     default",
        "StorageClass:  standard",
        "Status:        Bound",
        "Volume:        pvc-1a2b",
        "Labels:        <none>",
        "Annotations:   volume.kubernetes.io/selected-node: node-1",
        "Finalizers:    [kubernetes.io/pvc-protection]",
        "Capacity:      2Gi",
        "Access Modes:  RWO",
        "VolumeMode:    Filesystem",
        "Used By:       web-1",
        "               web-2",
        "Events:        <none>",
    ]


def test_a_claim_being_deleted_says_for_how_long() -> None:
    claim = core_pb2.PersistentVolumeClaim()
    claim.CopyFrom(PERSISTENT_VOLUME_CLAIM)
    claim.metadata.deletion_timestamp = "2026-11-21T15:09:30Z"
    text = describe_persistent_volume_claim(claim, [], None, NOW)
    assert "Status:        Terminating (lasts 30s)\n" in text
    assert "Used By:       <none>\n" in text


def test_describe_storage_class() -> None:
    assert describe_storage_class(STORAGE_CLASS, None, NOW).splitlines() == [
        "Name:                  standard",
        "IsDefaultClass:        Yes",
        "Annotations:           storageclass.kubernetes.io/is-default-class=true",
        "Provisioner:           rancher.io/local-path",
        "Parameters:            <none>",
        "AllowVolumeExpansion:  <unset>",
        "MountOptions:          <none>",
        "ReclaimPolicy:         Delete",
        "VolumeBindingMode:     WaitForFirstConsumer",
    ]


def test_a_pods_claim_volume() -> None:
    w = PrefixWriter()
    volume = core_pb2.Volume(name="data")
    volume.persistent_volume_claim.claim_name = "data"
    volume.persistent_volume_claim.read_only = True
    write_volumes(w, [volume])
    assert w.text().splitlines() == [
        "Volumes:",
        "  data:",
        "    Type:       PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the "
        "same namespace)",
        "    ClaimName:  data",
        "    ReadOnly:   true",
    ]


CLAIM_AND_POD = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: writer
spec:
  containers:
  - name: main
    image: busybox
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
"""


def test_podctl_applies_gets_and_describes_claims(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeClient()
    monkeypatch.chdir(tmp_path)
    Path("claim.yaml").write_text(CLAIM_AND_POD)
    assert run(["apply", "-f", "claim.yaml"], connector=cluster.connector()) == 0
    assert capsys.readouterr().out.splitlines() == [
        "persistentvolumeclaim/data created",
        "pod/writer created",
    ]
    assert run(["get", "pvc"], connector=cluster.connector()) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "NAME",
        "STATUS",
        "VOLUME",
        "CAPACITY",
        "ACCESS",
        "MODES",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "AGE",
    ]
    assert row.split()[0] == "data"
    assert run(["describe", "pvc", "data"], connector=cluster.connector()) == 0
    out = capsys.readouterr().out
    assert out.startswith("Name:          data\nNamespace:     default\n")
    assert "Used By:       writer\n" in out
