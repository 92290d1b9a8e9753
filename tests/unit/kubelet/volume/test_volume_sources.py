"""Every volume source Kubernetes 1.31 has, on a podplane node: ephemeral volumes are their
pod's own claims; nfs and gitRepo are mounted and cloned on the node when it can (else the mount's
or git's own error is the FailedMount); the cloud, CSI and removed sources keep the pod waiting
with the kubelet's FailedMount for each; the same for a claim bound to such a volume."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kubelet.volume.nfs import mount_arguments
from kubelet.volume.pod_volumes import PodVolumes, VolumeNotReady
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.volumefakes import Objects, claim, volume

WAIT = "Unable to attach or mount volumes: unmounted volumes=[v], unattached volumes=[v], "
NO_PLUGIN = (
    WAIT + 'failed to process volumes=[v]: failed to get Plugin from volumeSpec for volume "v" '
    "err=no volume plugin matched"
)
UNATTACHED = WAIT + "failed to process volumes=[]: timed out waiting for the condition"


def with_volume(source: dict[str, Any], name: str = "v") -> core_pb2.Pod:
    the_pod = pod(
        container("main", volume_mounts=[core_pb2.VolumeMount(name=name, mount_path="/v")])
    )
    the_pod.spec.volumes.append(manifest.from_dict({"name": name, **source}, core_pb2.Volume))
    return the_pod


SOURCES: list[tuple[dict[str, Any], str]] = [
    ({"awsElasticBlockStore": {"volumeID": "vol-0123"}}, UNATTACHED),
    ({"gcePersistentDisk": {"pdName": "disk-1"}}, UNATTACHED),
    ({"azureDisk": {"diskName": "d", "diskURI": "u"}}, UNATTACHED),
    ({"azureFile": {"secretName": "s", "shareName": "share"}}, UNATTACHED),
    ({"cinder": {"volumeID": "c-1"}}, UNATTACHED),
    ({"vsphereVolume": {"volumePath": "[ds] v.vmdk"}}, UNATTACHED),
    ({"portworxVolume": {"volumeID": "px-1"}}, UNATTACHED),
    ({"cephfs": {"monitors": ["10.0.0.1:6789"]}}, NO_PLUGIN),
    ({"rbd": {"monitors": ["10.0.0.1:6789"], "image": "i"}}, NO_PLUGIN),
    ({"glusterfs": {"endpoints": "gl", "path": "p"}}, NO_PLUGIN),
    ({"flocker": {"datasetName": "d"}}, NO_PLUGIN),
    ({"quobyte": {"registry": "r:7861", "volume": "v"}}, NO_PLUGIN),
    ({"scaleIO": {"gateway": "g", "system": "s", "secretRef": {"name": "s"}}}, NO_PLUGIN),
    ({"storageos": {"volumeName": "v"}}, NO_PLUGIN),
    ({"photonPersistentDisk": {"pdID": "p"}}, NO_PLUGIN),
    ({"flexVolume": {"driver": "example.com/lvm"}}, NO_PLUGIN),
    ({"image": {"reference": "busybox"}}, NO_PLUGIN),
    (
        {"csi": {"driver": "secrets-store.csi.k8s.io"}},
        'MountVolume.SetUp failed for volume "v" : kubernetes.io/csi: mounter.SetUpAt failed to '
        "get CSI client: driver name secrets-store.csi.k8s.io not found in the list of "
        "registered CSI drivers",
    ),
    (
        {"iscsi": {"targetPortal": "10.0.0.9", "iqn": "iqn.2001-04.com.example:t", "lun": 0}},
        'MountVolume.WaitForAttach failed for volume "v" : failed to get any path for iscsi disk, '
        "last err seen:\niscsi: failed to update discoverydb to portal 10.0.0.9:3260 error: "
        'exec: "iscsiadm": executable file not found in $PATH',
    ),
    (
        {"fc": {"targetWWNs": ["500a0982991b8dc5"], "lun": 2}},
        'MountVolume.WaitForAttach failed for volume "v" : no fc disk found',
    ),
]


@pytest.mark.parametrize(
    ("source", "message"), SOURCES, ids=[str(next(iter(s))) for s, _ in SOURCES]
)
async def test_a_source_the_node_cannot_serve(
    tmp_path: Path, source: dict[str, Any], message: str
) -> None:
    with pytest.raises(VolumeNotReady) as e:
        await PodVolumes(str(tmp_path)).setup(with_volume(source))
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            {"awsElasticBlockStore": {"volumeID": "vol-1"}},
            UNATTACHED,
        ),
        (
            {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"}},
            UNATTACHED,
        ),
        (
            {"cephfs": {"monitors": ["10.0.0.1"]}},
            WAIT.replace("[v]", "[data]")
            + "failed to process volumes=[data]: failed to get Plugin from volumeSpec for volume "
            '"pv1" err=no volume plugin matched',
        ),
    ],
    ids=["migrated", "csi", "removed"],
)
async def test_a_claim_bound_to_such_a_volume(
    tmp_path: Path, source: dict[str, Any], message: str
) -> None:
    objects = Objects([claim()], [volume(tmp_path, **source)])
    the_pod = pod(
        container("main"),
        volumes=(
            core_pb2.Volume(
                name="data",
                persistent_volume_claim=core_pb2.PersistentVolumeClaimVolumeSource(
                    claim_name="data"
                ),
            ),
        ),
    )
    with pytest.raises(VolumeNotReady) as e:
        await PodVolumes(str(tmp_path), claims=objects).setup(the_pod)
    assert str(e.value) == message.replace("[v]", "[data]")


def ephemeral_pod() -> core_pb2.Pod:
    the_pod = with_volume({"ephemeral": {"volumeClaimTemplate": {"spec": {}}}}, name="scratch")
    the_pod.metadata.name = "web"
    return the_pod


def owned_claim(owner: core_pb2.Pod | None) -> Any:
    c = claim()
    c.metadata.name = "web-scratch"
    if owner is not None:
        c.metadata.owner_references.append(
            meta_pb2.OwnerReference(
                kind="Pod", name=owner.metadata.name, uid=owner.metadata.uid, controller=True
            )
        )
    return c


async def test_an_ephemeral_volume_is_its_pods_claim(tmp_path: Path) -> None:
    the_pod = ephemeral_pod()
    directory = tmp_path / "pvc-1"
    objects = Objects([owned_claim(the_pod)], [volume(directory)])
    assert await PodVolumes(str(tmp_path), claims=objects).setup(the_pod) == {
        "scratch": str(directory)
    }


async def test_an_ephemeral_claim_the_pod_does_not_own_is_not_used(tmp_path: Path) -> None:
    objects = Objects([owned_claim(None)], [volume(tmp_path / "pvc-1")])
    with pytest.raises(VolumeNotReady) as e:
        await PodVolumes(str(tmp_path), claims=objects).setup(ephemeral_pod())
    assert str(e.value) == (
        "Unable to attach or mount volumes: unmounted volumes=[scratch], unattached volumes="
        "[scratch], failed to process volumes=[scratch]: PVC default/web-scratch was not created "
        "for pod default/web (pod is not owner)"
    )


async def test_an_ephemeral_claim_not_made_yet(tmp_path: Path) -> None:
    with pytest.raises(VolumeNotReady, match='persistentvolumeclaims "web-scratch" not found'):
        await PodVolumes(str(tmp_path), claims=Objects([], [])).setup(ephemeral_pod())


def test_nfs_mount_arguments() -> None:
    source = core_pb2.NFSVolumeSource(server="10.0.0.1", path="/exports")
    assert mount_arguments(source, "/d", read_only=False) == [
        "-t",
        "nfs",
        "10.0.0.1:/exports",
        "/d",
    ]
    assert mount_arguments(source, "/d", True, ["nfsvers=4.1"]) == [
        "-t",
        "nfs",
        "-o",
        "ro,nfsvers=4.1",
        "10.0.0.1:/exports",
        "/d",
    ]


async def test_an_nfs_mount_that_fails_is_a_failed_mount(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fail(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        output = f"mount: {args[-1]}: unknown filesystem type 'nfs'.\n"
        return subprocess.CompletedProcess(args, 32, "", output)

    monkeypatch.setattr(subprocess, "run", fail)
    the_pod = with_volume({"nfs": {"server": "10.0.0.1", "path": "/exports", "readOnly": True}})
    with pytest.raises(VolumeNotReady) as e:
        await PodVolumes(str(tmp_path)).setup(the_pod)
    target = tmp_path / "pods" / "uid-1" / "volumes" / "kubernetes.io~nfs" / "v"
    assert calls == [["mount", "-t", "nfs", "-o", "ro", "10.0.0.1:/exports", str(target)]]
    assert str(e.value) == (
        'MountVolume.SetUp failed for volume "v" : mount failed: exit status 32\n'
        "Mounting command: mount\n"
        f"Mounting arguments: -t nfs -o ro 10.0.0.1:/exports {target}\n"
        f"Output: mount: {target}: unknown filesystem type 'nfs'.\n"
    )


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


async def test_a_git_repo_volume_is_cloned_at_its_revision(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    for text in ("one", "two"):
        (repo / "file").write_text(text)
        git(repo, "add", "file")
        git(repo, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", text)
    first = git(repo, "rev-list", "--max-parents=0", "HEAD")
    the_pod = with_volume(
        {"gitRepo": {"repository": str(repo), "revision": first, "directory": "."}}
    )
    paths = await PodVolumes(str(tmp_path / "kubelet")).setup(the_pod)
    assert (Path(paths["v"]) / "file").read_text() == "one"


async def test_a_git_repo_volume_on_a_node_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    the_pod = with_volume({"gitRepo": {"repository": "https://example.com/app.git"}})
    with pytest.raises(VolumeNotReady) as e:
        await PodVolumes(str(tmp_path)).setup(the_pod)
    assert str(e.value) == (
        'MountVolume.SetUp failed for volume "v" : failed to exec \'git clone -- '
        'https://example.com/app.git\': : exec: "git": executable file not found in $PATH'
    )
