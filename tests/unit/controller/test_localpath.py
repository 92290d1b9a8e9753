"""The local-path provisioner against an in-memory apiserver: the volume it makes for a claim on
the selected node (its path, node affinity, class, size, claimRef), what it refuses, the helper
pod that removes a released volume's directory before the volume is deleted, and the default
class it creates at start."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from controller.localpath import volumes
from controller.localpath.controller import LocalPathProvisioner
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import manifest
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster, until

NS = "default"
PROVISIONER = "rancher.io/local-path"


def claim(node: str | None = "node-b", modes: tuple[str, ...] = ("ReadWriteOnce",)) -> Any:
    annotations = {"volume.kubernetes.io/storage-provisioner": PROVISIONER}
    if node:
        annotations["volume.kubernetes.io/selected-node"] = node
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": NS, "annotations": annotations},
            "spec": {
                "accessModes": list(modes),
                "storageClassName": "standard",
                "resources": {"requests": {"storage": "2Gi"}},
            },
        },
        core_pb2.PersistentVolumeClaim,
    )


@contextlib.asynccontextmanager
async def running(cluster: FakeCluster, **kw: Any) -> AsyncIterator[LocalPathProvisioner]:
    informers = SharedInformerFactory(cluster)  # type: ignore[arg-type]
    provisioner = LocalPathProvisioner(cluster, informers, base_dir="/srv/volumes", **kw)  # type: ignore[arg-type]
    task = asyncio.create_task(provisioner.run())
    try:
        yield provisioner
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def events(cluster: FakeCluster) -> list[tuple[str, str]]:
    return [(e.reason, e.message) for e in cluster.events.created]


async def test_it_makes_the_default_class_and_a_volume_on_the_selected_node() -> None:
    cluster = FakeCluster()
    made = await cluster.persistentvolumeclaims.create(claim())
    async with running(cluster):
        await until(lambda: bool(cluster.persistentvolumes.created), "a volume", cluster)
    [sc] = cluster.storageclasses.created
    assert sc.metadata.name == "standard" and sc.provisioner == PROVISIONER
    assert sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true"
    assert (sc.volume_binding_mode, sc.reclaim_policy) == ("WaitForFirstConsumer", "Delete")
    [pv] = cluster.persistentvolumes.created
    uid = made.metadata.uid
    assert pv.metadata.name == f"pvc-{uid}"
    assert pv.spec.host_path.path == f"/srv/volumes/pvc-{uid}_{NS}_data"
    assert pv.spec.host_path.type == "DirectoryOrCreate"
    assert (pv.spec.claim_ref.name, pv.spec.claim_ref.uid) == ("data", uid)
    assert pv.spec.storage_class_name == "standard"
    assert dict(pv.spec.capacity) == {"storage": "2Gi"}
    assert pv.spec.persistent_volume_reclaim_policy == "Delete"
    assert volumes.volume_node(pv) == "node-b"
    assert pv.metadata.annotations["pv.kubernetes.io/provisioned-by"] == PROVISIONER
    assert events(cluster) == [
        ("Provisioning", f'External provisioner is provisioning volume for claim "{NS}/data"'),
        ("ProvisioningSucceeded", f"Successfully provisioned volume pvc-{uid}"),
    ]


async def test_a_class_parameter_moves_the_directory_and_unsupported_modes_are_refused() -> None:
    cluster = FakeCluster()
    await cluster.storageclasses.create(
        storage_pb2.StorageClass(
            metadata={"name": "standard"},
            provisioner=PROVISIONER,
            parameters={"nodePath": "/mnt/fast"},
            volume_binding_mode="WaitForFirstConsumer",
        )
    )
    await cluster.persistentvolumeclaims.create(claim())
    shared = claim(modes=("ReadWriteMany",))
    shared.metadata.name = "shared"
    await cluster.persistentvolumeclaims.create(shared)
    async with running(cluster, default_class=None):
        await until(lambda: bool(cluster.persistentvolumes.created), "a volume", cluster)
        await until(
            lambda: any(r == "ProvisioningFailed" for r, _ in events(cluster)),
            "ProvisioningFailed",
            cluster,
        )
    [pv] = cluster.persistentvolumes.created
    assert pv.spec.host_path.path.startswith("/mnt/fast/pvc-")
    assert (
        "ProvisioningFailed",
        'failed to provision volume with StorageClass "standard": Only support ReadWriteOnce '
        "and ReadWriteOncePod access modes",
    ) in events(cluster)


async def test_no_volume_before_the_scheduler_selects_a_node() -> None:
    cluster = FakeCluster()
    await cluster.persistentvolumeclaims.create(claim(node=None))
    async with running(cluster):
        await asyncio.sleep(0.05)
        cluster.deliver()
        await asyncio.sleep(0.05)
    assert not cluster.persistentvolumes.created


async def test_a_released_volume_is_cleaned_by_a_helper_pod_then_deleted() -> None:
    cluster = FakeCluster()
    await cluster.nodes.create(core_pb2.Node(metadata={"name": "node-b"}))
    made = await cluster.persistentvolumeclaims.create(claim())
    async with running(cluster):
        await until(lambda: bool(cluster.persistentvolumes.created), "a volume", cluster)
        [pv] = cluster.persistentvolumes.created
        released = core_pb2.PersistentVolume()
        released.CopyFrom(cluster.persistentvolumes.store[f"/{pv.metadata.name}"])
        released.status.phase = "Released"
        await cluster.persistentvolumes.update_status(released)
        await until(lambda: bool(cluster.pods.created), "the helper pod", cluster)
        [helper] = cluster.pods.created
        assert helper.metadata.namespace == "kube-system"
        assert helper.spec.node_name == "node-b"
        assert helper.spec.volumes[0].host_path.path == "/srv/volumes"
        assert list(helper.spec.containers[0].command) == ["sh", "-c", 'rm -rf "$VOL_DIR"']
        env = {e.name: e.value for e in helper.spec.containers[0].env}
        assert env == {"VOL_DIR": f"/srv/volumes/pvc-{made.metadata.uid}_{NS}_data"}
        # Not deleted while the helper runs.
        await asyncio.sleep(0.05)
        assert f"/{pv.metadata.name}" in cluster.persistentvolumes.store
        done = core_pb2.Pod()
        done.CopyFrom(cluster.pods.store[f"kube-system/{helper.metadata.name}"])
        done.status.phase = "Succeeded"
        await cluster.pods.update_status(done)
        await until(
            lambda: pv.metadata.name in cluster.persistentvolumes.deleted,
            "the volume to be deleted",
            cluster,
        )
    assert helper.metadata.name in cluster.pods.deleted
