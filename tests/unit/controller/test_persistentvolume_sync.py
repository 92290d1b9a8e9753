"""The PV controller against an in-memory apiserver: the four writes of a binding, made once even
while its cache lags; WaitForFirstConsumer claims wait (and say for which pod); provisioning is
asked of the class's provisioner once a node is selected; released volumes are reclaimed by their
policy; claims that lose their volume are Lost."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from controller.persistentvolume.controller import PersistentVolumeController
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import manifest
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster, until

NS = "default"


def pv(name: str, size: str, *, phase: str = "", **spec: Any) -> core_pb2.PersistentVolume:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": spec.pop("annotations", {})},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": f"/data/{name}"},
                "persistentVolumeReclaimPolicy": spec.pop("reclaim", "Retain"),
                **spec,
            },
            "status": {"phase": phase},
        },
        core_pb2.PersistentVolume,
    )


def pvc(
    name: str, size: str = "1Gi", *, phase: str = "Pending", **spec: Any
) -> core_pb2.PersistentVolumeClaim:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {
                "name": name,
                "namespace": NS,
                "annotations": spec.pop("annotations", {}),
            },
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": size}},
                "storageClassName": spec.pop("storageClassName", ""),
                **spec,
            },
            "status": {"phase": phase},
        },
        core_pb2.PersistentVolumeClaim,
    )


def wffc(name: str, provisioner: str) -> storage_pb2.StorageClass:
    return manifest.from_dict(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": name},
            "provisioner": provisioner,
            "volumeBindingMode": "WaitForFirstConsumer",
        },
        storage_pb2.StorageClass,
    )


@contextlib.asynccontextmanager
async def running(cluster: FakeCluster) -> AsyncIterator[PersistentVolumeController]:
    controller = PersistentVolumeController(cluster, SharedInformerFactory(cluster), sync_period=0)  # type: ignore[arg-type]
    task = asyncio.create_task(controller.run())
    try:
        yield controller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def stored_pv(cluster: FakeCluster, name: str) -> core_pb2.PersistentVolume:
    return cluster.persistentvolumes.store[f"/{name}"]


def stored_pvc(cluster: FakeCluster, name: str) -> core_pb2.PersistentVolumeClaim:
    return cluster.persistentvolumeclaims.store[f"{NS}/{name}"]


def reasons(cluster: FakeCluster) -> list[tuple[str, str, str]]:
    return [(e.involved_object.name, e.reason, e.message) for e in cluster.events.created]


async def test_a_claim_is_bound_to_the_smallest_volume_in_four_writes() -> None:
    cluster = FakeCluster()
    for name, size in (("small", "1Gi"), ("medium", "5Gi"), ("large", "10Gi")):
        await cluster.persistentvolumes.create(pv(name, size, phase="Available"))
    claim = await cluster.persistentvolumeclaims.create(pvc("data", "3Gi"))
    async with running(cluster):
        await until(
            lambda: stored_pvc(cluster, "data").status.phase == "Bound", "the binding", cluster
        )
    volume, bound = stored_pv(cluster, "medium"), stored_pvc(cluster, "data")
    assert volume.spec.claim_ref.uid == claim.metadata.uid
    assert volume.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert volume.status.phase == "Bound"
    assert bound.spec.volume_name == "medium"
    assert dict(bound.metadata.annotations) == {
        "pv.kubernetes.io/bind-completed": "yes",
        "pv.kubernetes.io/bound-by-controller": "yes",
    }
    assert dict(bound.status.capacity) == {"storage": "5Gi"}
    # Written once each: the controller did not act on its cache's older copies in between.
    assert [v.status.phase for v in cluster.persistentvolumes.status_updates] == ["Bound"]
    assert [c.status.phase for c in cluster.persistentvolumeclaims.status_updates] == ["Bound"]


async def test_a_volume_without_a_claim_becomes_available() -> None:
    cluster = FakeCluster()
    await cluster.persistentvolumes.create(pv("new", "1Gi", phase="Pending"))
    async with running(cluster):
        await until(
            lambda: stored_pv(cluster, "new").status.phase == "Available", "Available", cluster
        )


async def test_a_wait_for_first_consumer_claim_waits_then_asks_its_provisioner() -> None:
    cluster = FakeCluster()
    await cluster.storageclasses.create(wffc("standard", "rancher.io/local-path"))
    await cluster.persistentvolumes.create(pv("fits", "1Gi", phase="Available"))
    await cluster.persistentvolumeclaims.create(pvc("data", storageClassName="standard"))
    async with running(cluster):
        await until(
            lambda: (
                (
                    "data",
                    "WaitForFirstConsumer",
                    "waiting for first consumer to be created before binding",
                )
                in reasons(cluster)
            ),
            "WaitForFirstConsumer",
            cluster,
        )
        # Not bound to the volume that fits: the scheduler chooses, on the pod's node.
        assert not stored_pvc(cluster, "data").spec.volume_name
        user = manifest.from_dict(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "app", "namespace": NS},
                "spec": {
                    "containers": [{"name": "c", "image": "busybox"}],
                    "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}],
                },
            },
            core_pb2.Pod,
        )
        await cluster.pods.create(user)
        cluster.deliver()
        claim = core_pb2.PersistentVolumeClaim()
        claim.CopyFrom(stored_pvc(cluster, "data"))
        claim.metadata.annotations["example.com/touch"] = "1"
        await cluster.persistentvolumeclaims.update(claim)
        await until(
            lambda: (
                ("data", "WaitForPodScheduled", "waiting for pod app to be scheduled")
                in reasons(cluster)
            ),
            "WaitForPodScheduled",
            cluster,
        )
        # The scheduler picks a node: the provisioner is asked.
        claim.CopyFrom(stored_pvc(cluster, "data"))
        claim.metadata.annotations["volume.kubernetes.io/selected-node"] = "node-a"
        await cluster.persistentvolumeclaims.update(claim)
        await until(
            lambda: (
                "volume.kubernetes.io/storage-provisioner"
                in stored_pvc(cluster, "data").metadata.annotations
            ),
            "the provisioner annotation",
            cluster,
        )
        annotations = stored_pvc(cluster, "data").metadata.annotations
        assert annotations["volume.beta.kubernetes.io/storage-provisioner"] == (
            "rancher.io/local-path"
        )
        await until(
            lambda: any(r == "ExternalProvisioning" for _, r, _m in reasons(cluster)),
            "ExternalProvisioning",
            cluster,
        )
        # The provisioner's volume, bound to the claim, is bound the other way too.
        made = pv(
            "pvc-uid-data",
            "1Gi",
            storageClassName="standard",
            claimRef={"namespace": NS, "name": "data", "uid": "uid-data"},
            annotations={"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"},
        )
        await cluster.persistentvolumes.create(made)
        await until(
            lambda: stored_pvc(cluster, "data").spec.volume_name == "pvc-uid-data",
            "the provisioned volume to be bound",
            cluster,
        )


async def test_released_volumes_are_reclaimed_by_their_policy() -> None:
    cluster = FakeCluster()
    gone = {"namespace": NS, "name": "deleted", "uid": "uid-deleted"}
    await cluster.persistentvolumes.create(pv("kept", "1Gi", phase="Bound", claimRef=gone))
    await cluster.persistentvolumes.create(
        pv(
            "external",
            "1Gi",
            phase="Bound",
            claimRef=gone,
            reclaim="Delete",
            annotations={"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"},
        )
    )
    await cluster.persistentvolumes.create(
        pv("manual", "1Gi", phase="Bound", claimRef=gone, reclaim="Delete")
    )
    async with running(cluster):
        await until(
            lambda: stored_pv(cluster, "manual").status.phase == "Failed", "Failed", cluster
        )
        await until(
            lambda: stored_pv(cluster, "kept").status.phase == "Released", "Released", cluster
        )
    assert stored_pv(cluster, "external").status.phase == "Released"  # its provisioner's now
    assert stored_pv(cluster, "kept").spec.claim_ref.name == "deleted"
    assert (
        "manual",
        "VolumeFailedDelete",
        'error getting deleter volume plugin for volume "manual": no deletable volume plugin '
        "matched",
    ) in reasons(cluster)


async def test_a_bound_claim_whose_volume_is_gone_is_lost() -> None:
    cluster = FakeCluster()
    await cluster.persistentvolumeclaims.create(
        pvc(
            "data",
            volumeName="vanished",
            phase="Bound",
            annotations={"pv.kubernetes.io/bind-completed": "yes"},
        )
    )
    async with running(cluster):
        await until(lambda: stored_pvc(cluster, "data").status.phase == "Lost", "Lost", cluster)
    assert (
        "data",
        "ClaimLost",
        "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
    ) in reasons(cluster)


async def test_a_claim_asking_for_a_volume_by_name_gets_it_if_it_fits() -> None:
    cluster = FakeCluster()
    await cluster.persistentvolumes.create(pv("named", "1Gi", phase="Available"))
    await cluster.persistentvolumes.create(pv("tiny", "1Mi", phase="Available"))
    await cluster.persistentvolumeclaims.create(pvc("wants", volumeName="named"))
    await cluster.persistentvolumeclaims.create(pvc("too-big", volumeName="tiny"))
    async with running(cluster):
        await until(lambda: stored_pvc(cluster, "wants").status.phase == "Bound", "Bound", cluster)
        await until(
            lambda: any(r == "VolumeMismatch" for _, r, _m in reasons(cluster)),
            "VolumeMismatch",
            cluster,
        )
    assert stored_pv(cluster, "named").spec.claim_ref.name == "wants"
    # Asked for by the user: not marked as the controller's doing.
    assert (
        "pv.kubernetes.io/bound-by-controller"
        not in stored_pvc(cluster, "wants").metadata.annotations
    )
    assert (
        "too-big",
        "VolumeMismatch",
        'Cannot bind to requested volume "tiny": requested PV is too small',
    ) in reasons(cluster)
