"""persistentVolumeClaim volumes on the node: the bound volume's directory (made when its type says
DirectoryOrCreate), mounted read-only when the pod's volume says so, and the FailedMount words for
a claim that cannot be mounted yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelet.volume.pod_volumes import PodVolumes, VolumeNotReady
from podplane.api.core.v1 import core_pb2
from tests.unit.kubelet.podbuild import container, pod
from tests.unit.kubelet.volumefakes import Objects, claim, volume


def claim_pod(read_only: bool = False) -> core_pb2.Pod:
    source = core_pb2.PersistentVolumeClaimVolumeSource(claim_name="data", read_only=read_only)
    return pod(
        container("main", volume_mounts=[core_pb2.VolumeMount(name="data", mount_path="/data")]),
        volumes=(core_pb2.Volume(name="data", persistent_volume_claim=source),),
    )


async def test_the_volume_directory_is_made_and_mounted(tmp_path: Path) -> None:
    directory = tmp_path / "local-path" / "pvc-1"
    volumes = PodVolumes(str(tmp_path / "kubelet"), claims=Objects([claim()], [volume(directory)]))
    the_pod = claim_pod()
    paths = await volumes.setup(the_pod)
    assert paths == {"data": str(directory)}
    assert directory.is_dir()
    [mount] = PodVolumes.mounts(the_pod.spec.containers[0], paths)
    assert (mount.host_path, mount.container_path, mount.read_only) == (
        str(directory),
        "/data",
        False,
    )
    # The pod's directory goes with the pod; the volume's stays.
    await volumes.teardown(the_pod.metadata.uid)
    assert directory.is_dir()


async def test_a_read_only_claim_is_mounted_read_only(tmp_path: Path) -> None:
    volumes = PodVolumes(str(tmp_path), claims=Objects([claim()], [volume(tmp_path / "v")]))
    the_pod = claim_pod(read_only=True)
    paths = await volumes.setup(the_pod)
    [mount] = PodVolumes.mounts(the_pod.spec.containers[0], paths)
    assert mount.read_only


PREFIX = (
    "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data], "
    "failed to process volumes=[data]: error processing PVC default/data: "
)


@pytest.mark.parametrize(
    ("claims", "volumes", "message"),
    [
        ([], [], 'failed to fetch PVC from API server: persistentvolumeclaims "data" not found'),
        ([claim(phase="Pending")], [], "PVC is not bound"),
        (
            [claim(deleting=True)],
            [],
            "can't start pod because PVC default/data is being deleted",
        ),
        (
            [claim()],
            [],
            'failed to fetch PV pv1 from API server: persistentvolumes "pv1" not found',
        ),
        (
            [claim()],
            ["other-uid"],
            "found PV object pv1 but its pv.Spec.ClaimRef.UID other-uid does not point to "
            "claim.UID uid-data",
        ),
    ],
)
async def test_a_claim_not_ready_is_a_failed_mount(
    tmp_path: Path, claims: list[Any], volumes: list[str], message: str
) -> None:
    objects = Objects(claims, [volume(tmp_path / "v", uid=uid) for uid in volumes])
    with pytest.raises(VolumeNotReady) as e:
        await PodVolumes(str(tmp_path), claims=objects).setup(claim_pod())
    assert str(e.value) == PREFIX + message


async def test_a_volume_of_no_source_the_kubelet_knows_waits(tmp_path: Path) -> None:
    none: Any = volume(tmp_path)
    none.spec.ClearField("host_path")
    with pytest.raises(VolumeNotReady) as e:
        await PodVolumes(str(tmp_path), claims=Objects([claim()], [none])).setup(claim_pod())
    assert str(e.value) == (
        "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data], "
        'failed to process volumes=[data]: failed to get Plugin from volumeSpec for volume "pv1" '
        "err=no volume plugin matched"
    )


async def test_a_mounted_claim_stays_mounted_while_its_pod_lives(tmp_path: Path) -> None:
    """A claim deleted while its pod runs is protected until the pod goes: the pod's containers
    (a restart, say) keep its volume; a new pod may not start with it."""
    objects = Objects([claim()], [volume(tmp_path / "v")])
    volumes = PodVolumes(str(tmp_path / "kubelet"), claims=objects)
    running = claim_pod()
    await volumes.setup(running)
    objects.claims["data"] = claim(deleting=True)
    assert await volumes.setup(running) == {"data": str(tmp_path / "v")}
    newcomer = claim_pod()
    newcomer.metadata.uid = "uid-2"
    with pytest.raises(VolumeNotReady, match="is being deleted"):
        await volumes.setup(newcomer)
    await volumes.teardown(running.metadata.uid)
    with pytest.raises(VolumeNotReady, match="is being deleted"):
        await volumes.setup(running)
