"""Persistent volumes on a real apiserver and etcd, with the controllers (PV binder, PVC and PV
protection, the local-path provisioner) and the scheduler running in process and Node objects
registered through the API (nothing runs containers; where a kubelet would act, the test does):
claims bound to the smallest volume that fits, the protection finalizers, WaitForFirstConsumer
placement and provisioning, the scheduler's words when no node has the volumes, and reclaim."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from controller.localpath.controller import LocalPathProvisioner
from controller.persistentvolume.controller import PersistentVolumeController
from controller.pvcprotection.controller import PVCProtectionController
from controller.pvprotection.controller import PVProtectionController
from podplane.api.core.v1 import core_pb2
from podplane.api.storage.v1 import storage_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.integration.controller_support import Passes, informed, running
from tests.integration.scheduler_support import events_for, new_pod, register_node
from tests.support import eventually, new_namespace

NODES = ("node-a", "node-b", "node-c")
HOSTNAME = "kubernetes.io/hostname"
# What the scheduler's preemption adds: no eviction mends a volume that cannot be reached.
NOT_HELPFUL = " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."


@dataclass(frozen=True)
class VolumeControllers:
    """The module's PV binder and PVC protection controllers, each with its passes counted."""

    binder: PersistentVolumeController
    binder_passes: Passes
    claim_protection: PVCProtectionController
    claim_protection_passes: Passes


@pytest_asyncio.fixture(scope="module")
async def running_cluster(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Client, VolumeControllers]]:
    """A cluster of its own (the default class `standard` stays out of the shared one), with the
    volume controllers and the scheduler running."""
    base = tmp_path_factory.mktemp("local-path")
    with etcd_process() as etcd:
        async with running_apiserver(etcd) as server:
            client = Client(f"127.0.0.1:{server.port}", timeout=10)
            for name in NODES:
                await register_node(client, name, cpu="8")
            scheduler = Scheduler(
                client,
                Framework(
                    in_tree_registry(), default_profile(), handle=SharedInformerFactory(client)
                ),
            )
            informers = SharedInformerFactory(client)  # the controller-manager's: one for all
            binder = PersistentVolumeController(client, informers, sync_period=2.0)
            claim_protection = PVCProtectionController(client, informers)
            watched = VolumeControllers(
                binder, Passes.of(binder.loop), claim_protection, Passes.of(claim_protection.loop)
            )
            controllers = (
                binder,
                claim_protection,
                PVProtectionController(client, informers),
                LocalPathProvisioner(client, informers, base_dir=str(base)),
            )
            async with running(*controllers, scheduler):
                async with asyncio.timeout(20):
                    await scheduler.wait_synced()

                # The provisioner creates the default class as it starts; claims made before
                # the apiserver's watch cache, which DefaultStorageClass admission reads, holds
                # it get no class. A list at resourceVersion 0 is served from that cache.
                async def default_class_cached() -> bool:
                    listed = await client.storageclasses.list(resource_version="0")
                    return any(c.metadata.name == "standard" for c in listed.items)

                await eventually(
                    default_class_cached, timeout=20, what="the default StorageClass standard"
                )
                yield client, watched
            await scheduler.stop()
            await client.close()


@pytest.fixture(scope="module")
def cluster(running_cluster: tuple[Client, VolumeControllers]) -> Client:
    return running_cluster[0]


@pytest.fixture(scope="module")
def volume_controllers(running_cluster: tuple[Client, VolumeControllers]) -> VolumeControllers:
    return running_cluster[1]


def volume(
    name: str, size: str, *, modes: tuple[str, ...] = ("ReadWriteOnce",), **spec: Any
) -> Any:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": spec.pop("labels", {})},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": list(modes),
                "hostPath": {"path": f"/data/{name}"},
                **spec,
            },
        }
    )
    assert isinstance(obj, core_pb2.PersistentVolume)
    return obj


def claim(
    name: str, ns: str, size: str, *, modes: tuple[str, ...] = ("ReadWriteOnce",), **spec: Any
) -> Any:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "accessModes": list(modes),
                "resources": {"requests": {"storage": size}},
                **spec,
            },
        }
    )
    assert isinstance(obj, core_pb2.PersistentVolumeClaim)
    return obj


def storage_class(name: str, provisioner: str, mode: str) -> storage_pb2.StorageClass:
    obj = manifest.from_dict(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": name},
            "provisioner": provisioner,
            "volumeBindingMode": mode,
        }
    )
    assert isinstance(obj, storage_pb2.StorageClass)
    return obj


def pod_using(name: str, ns: str, claim_name: str, **spec: Any) -> core_pb2.Pod:
    return new_pod(
        name,
        ns,
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
        **spec,
    )


async def bound_claim(client: Client, ns: str, name: str) -> core_pb2.PersistentVolumeClaim:
    async def check() -> core_pb2.PersistentVolumeClaim | None:
        c = await client.persistentvolumeclaims.get(name, ns)
        return c if c.status.phase == "Bound" else None

    return await eventually(check, timeout=20, what=f"claim {ns}/{name} to be Bound")


async def gone(get: Any) -> bool:
    try:
        await get()
    except grpc.aio.AioRpcError as e:
        return bool(e.code() == grpc.StatusCode.NOT_FOUND)
    return False


async def scheduled_on(client: Client, ns: str, name: str) -> str:
    async def check() -> str:
        return str((await client.pods.get(name, ns)).spec.node_name)

    return await eventually(check, timeout=20, what=f"pod {ns}/{name} to be bound")


async def failed_scheduling(client: Client, ns: str, name: str, words: str) -> str:
    async def check() -> str | None:
        events = await events_for(client, ns, name, "FailedScheduling")
        return next((e.message for e in events if words in e.message), None)

    return await eventually(check, timeout=20, what=f"FailedScheduling saying {words!r}")


# ---------------------------------------------------------------------- binding


async def test_the_default_class_and_the_protection_finalizer_are_set_on_create(
    cluster: Client,
) -> None:
    ns = await new_namespace(cluster, "pv-")
    created = await cluster.persistentvolumeclaims.create(claim("data", ns, "1Gi"))
    assert created.spec.storage_class_name == "standard"
    assert list(created.metadata.finalizers) == ["kubernetes.io/pvc-protection"]
    assert created.status.phase == "Pending" and created.spec.volume_mode == "Filesystem"
    pv = await cluster.persistentvolumes.create(volume("pv-defaults", "1Gi"))
    assert list(pv.metadata.finalizers) == ["kubernetes.io/pv-protection"]
    assert pv.spec.persistent_volume_reclaim_policy == "Retain"
    # No pod uses it yet: the claim waits for one.
    events = await events_for(cluster, ns, "data", "WaitForFirstConsumer")
    assert events[0].message == "waiting for first consumer to be created before binding"
    await cluster.persistentvolumes.delete("pv-defaults")


async def test_a_claim_binds_to_the_smallest_volume_that_fits(cluster: Client) -> None:
    ns = await new_namespace(cluster, "pv-")
    for name, size in (("small", "1Gi"), ("medium", "5Gi"), ("large", "10Gi")):
        await cluster.persistentvolumes.create(volume(f"{ns}-{name}", size, storageClassName=ns))
    await cluster.persistentvolumeclaims.create(claim("data", ns, "3Gi", storageClassName=ns))
    bound = await bound_claim(cluster, ns, "data")
    assert bound.spec.volume_name == f"{ns}-medium"
    assert dict(bound.status.capacity) == {"storage": "5Gi"}
    assert list(bound.status.access_modes) == ["ReadWriteOnce"]
    assert bound.metadata.annotations["pv.kubernetes.io/bind-completed"] == "yes"
    pv = await cluster.persistentvolumes.get(f"{ns}-medium")
    assert (pv.spec.claim_ref.namespace, pv.spec.claim_ref.name) == (ns, "data")
    assert pv.spec.claim_ref.uid == bound.metadata.uid
    assert pv.status.phase == "Bound"

    async def available() -> bool:
        others = [await cluster.persistentvolumes.get(f"{ns}-{n}") for n in ("small", "large")]
        return all(p.status.phase == "Available" for p in others)

    await eventually(available, what="the other volumes to be Available")


async def test_access_modes_and_the_selector_choose_among_volumes(cluster: Client) -> None:
    ns = await new_namespace(cluster, "pv-")
    await cluster.persistentvolumes.create(volume(f"{ns}-rwo", "1Gi", storageClassName=ns))
    await cluster.persistentvolumes.create(
        volume(
            f"{ns}-shared",
            "2Gi",
            modes=("ReadWriteOnce", "ReadWriteMany"),
            storageClassName=ns,
            labels={"tier": "gold"},
        )
    )
    await cluster.persistentvolumeclaims.create(
        claim("many", ns, "1Gi", modes=("ReadWriteMany",), storageClassName=ns)
    )
    assert (await bound_claim(cluster, ns, "many")).spec.volume_name == f"{ns}-shared"
    await cluster.persistentvolumes.create(
        volume(f"{ns}-gold", "3Gi", storageClassName=ns, labels={"tier": "gold"})
    )
    await cluster.persistentvolumeclaims.create(
        claim("gold", ns, "1Gi", storageClassName=ns, selector={"matchLabels": {"tier": "gold"}})
    )
    assert (await bound_claim(cluster, ns, "gold")).spec.volume_name == f"{ns}-gold"


async def test_a_claim_without_a_class_to_provision_stays_pending(cluster: Client) -> None:
    ns = await new_namespace(cluster, "pv-")
    await cluster.persistentvolumeclaims.create(claim("none", ns, "1Gi", storageClassName=""))
    events = await events_for(cluster, ns, "none", "FailedBinding")
    assert events[0].message == (
        "no persistent volumes available for this claim and no storage class is set"
    )
    # A volume of no class that fits appears: the claim takes it.
    await cluster.persistentvolumes.create(volume(f"{ns}-noclass", "1Gi"))
    assert (await bound_claim(cluster, ns, "none")).spec.volume_name == f"{ns}-noclass"


# ---------------------------------------------------------------------- protection


async def test_a_claim_in_use_is_deleted_only_after_its_pod(
    cluster: Client, volume_controllers: VolumeControllers
) -> None:
    ns = await new_namespace(cluster, "pv-")
    await cluster.persistentvolumes.create(volume(f"{ns}-pv", "1Gi", storageClassName=ns))
    await cluster.persistentvolumeclaims.create(claim("data", ns, "1Gi", storageClassName=ns))
    await bound_claim(cluster, ns, "data")
    await cluster.pods.create(pod_using("user", ns, "data"))
    assert await scheduled_on(cluster, ns, "user") in NODES
    marked = await cluster.persistentvolumeclaims.delete("data", ns)
    assert marked.metadata.deletion_timestamp
    # The bound volume is protected too while its claim holds it.
    pv = await cluster.persistentvolumes.delete(f"{ns}-pv")
    assert pv.metadata.deletion_timestamp
    # The claim protection and the binder have seen both deletions and passed over the claim
    # (and the volume) once more since: what they would do with them, they have done.
    c = volume_controllers
    await informed(c.binder.claim_informer, marked)
    await informed(c.binder.volume_informer, pv)
    await c.claim_protection_passes.resync(f"{ns}/data")
    await c.binder_passes.resync(f"claim/{ns}/data")
    await c.binder_passes.resync(f"volume/{ns}-pv")
    still = await cluster.persistentvolumeclaims.get("data", ns)
    assert list(still.metadata.finalizers) == ["kubernetes.io/pvc-protection"]
    assert still.status.phase == "Bound"
    # A new pod may not use a claim being deleted.
    await cluster.pods.create(pod_using("late", ns, "data"))
    await failed_scheduling(cluster, ns, "late", 'persistentvolumeclaim "data" is being deleted')
    await cluster.pods.delete("late", ns, grace_period_seconds=0)
    # The pod goes (its kubelet would have stopped it): the claim goes, then the volume, which
    # was Released.
    await cluster.pods.delete("user", ns, grace_period_seconds=0)
    await eventually(
        lambda: gone(lambda: cluster.persistentvolumeclaims.get("data", ns)),
        what="the claim to be deleted",
    )
    await eventually(
        lambda: gone(lambda: cluster.persistentvolumes.get(f"{ns}-pv")),
        what="the volume to be deleted",
    )


async def test_a_released_volume_with_reclaim_policy_retain_is_kept(
    cluster: Client, volume_controllers: VolumeControllers
) -> None:
    ns = await new_namespace(cluster, "pv-")
    await cluster.persistentvolumes.create(volume(f"{ns}-kept", "1Gi", storageClassName=ns))
    await cluster.persistentvolumeclaims.create(claim("data", ns, "1Gi", storageClassName=ns))
    await bound_claim(cluster, ns, "data")
    await cluster.persistentvolumeclaims.delete("data", ns)

    async def released() -> core_pb2.PersistentVolume | None:
        pv = await cluster.persistentvolumes.get(f"{ns}-kept")
        return pv if pv.status.phase == "Released" else None

    pv = await eventually(released, what="the volume to be Released")
    assert pv.spec.claim_ref.name == "data"  # until an administrator reclaims it
    # A new claim of the same name does not get it back: not when the binder, having seen it,
    # has passed over it and the volume.
    again = await cluster.persistentvolumeclaims.create(
        claim("data", ns, "1Gi", storageClassName=ns)
    )
    binder = volume_controllers.binder
    await informed(binder.claim_informer, again)
    await volume_controllers.binder_passes.resync(f"claim/{ns}/data")
    await volume_controllers.binder_passes.resync(f"volume/{ns}-kept")
    assert not (await cluster.persistentvolumeclaims.get("data", ns)).spec.volume_name


# ---------------------------------------------------------------------- scheduling


async def test_wait_for_first_consumer_provisions_on_the_pods_node(cluster: Client) -> None:
    ns = await new_namespace(cluster, "pv-")
    await cluster.persistentvolumeclaims.create(claim("data", ns, "2Gi"))
    await cluster.pods.create(pod_using("writer", ns, "data"))
    node = await scheduled_on(cluster, ns, "writer")
    bound = await bound_claim(cluster, ns, "data")
    assert bound.metadata.annotations["volume.kubernetes.io/selected-node"] == node
    assert bound.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == (
        "rancher.io/local-path"
    )
    pv = await cluster.persistentvolumes.get(bound.spec.volume_name)
    assert pv.metadata.name == f"pvc-{bound.metadata.uid}"
    assert pv.spec.host_path.path.endswith(f"/pvc-{bound.metadata.uid}_{ns}_data")
    assert pv.spec.host_path.type == "DirectoryOrCreate"
    assert pv.spec.persistent_volume_reclaim_policy == "Delete"
    assert pv.metadata.annotations["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path"
    [term] = pv.spec.node_affinity.required.node_selector_terms
    assert (term.match_expressions[0].key, list(term.match_expressions[0].values)) == (
        HOSTNAME,
        [node],
    )
    reasons = {e.reason for e in (await cluster.events.list(ns)).items}
    assert {"ExternalProvisioning", "Provisioning", "ProvisioningSucceeded"} <= reasons
    # The next pod using the claim goes where the volume is, and only there.
    await cluster.pods.create(pod_using("reader", ns, "data"))
    assert await scheduled_on(cluster, ns, "reader") == node
    elsewhere = next(n for n in NODES if n != node)
    await cluster.pods.create(pod_using("stray", ns, "data", nodeSelector={HOSTNAME: elsewhere}))
    message = await failed_scheduling(cluster, ns, "stray", "volume node affinity conflict")
    assert message == (
        "0/3 nodes are available: 1 node(s) had volume node affinity conflict, "
        "2 node(s) didn't match Pod's node affinity/selector." + NOT_HELPFUL
    )


async def test_a_pod_waits_for_its_immediate_claim_to_be_bound(cluster: Client) -> None:
    ns = await new_namespace(cluster, "pv-")
    await cluster.storageclasses.create(
        storage_class(ns, "kubernetes.io/no-provisioner", "Immediate")
    )
    await cluster.persistentvolumeclaims.create(claim("data", ns, "1Gi", storageClassName=ns))
    await cluster.pods.create(pod_using("waiting", ns, "data"))
    message = await failed_scheduling(cluster, ns, "waiting", "immediate")
    assert message == (
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims." + NOT_HELPFUL
    )
    await cluster.persistentvolumes.create(volume(f"{ns}-late", "1Gi", storageClassName=ns))
    await bound_claim(cluster, ns, "data")
    assert await scheduled_on(cluster, ns, "waiting") in NODES


async def test_local_volumes_of_a_wait_for_first_consumer_class(cluster: Client) -> None:
    """A class with no provisioner: the scheduler itself binds the claim to a volume reachable
    from the node it chooses, or says none is."""
    ns = await new_namespace(cluster, "pv-")
    await cluster.storageclasses.create(
        storage_class(ns, "kubernetes.io/no-provisioner", "WaitForFirstConsumer")
    )
    await cluster.persistentvolumeclaims.create(claim("data", ns, "1Gi", storageClassName=ns))
    await cluster.pods.create(pod_using("local", ns, "data"))
    message = await failed_scheduling(cluster, ns, "local", "persistent volumes")
    assert message == (
        "0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind."
        + NOT_HELPFUL
    )
    affinity = {
        "required": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": HOSTNAME, "operator": "In", "values": ["node-b"]}]}
            ]
        }
    }
    await cluster.persistentvolumes.create(
        volume(
            f"{ns}-disk",
            "1Gi",
            storageClassName=ns,
            hostPath=None,
            local={"path": "/mnt/disk"},
            nodeAffinity=affinity,
        )
    )
    assert await scheduled_on(cluster, ns, "local") == "node-b"
    bound = await bound_claim(cluster, ns, "data")
    assert bound.spec.volume_name == f"{ns}-disk"
    assert "volume.kubernetes.io/selected-node" not in bound.metadata.annotations


# ---------------------------------------------------------------------- reclaim


async def test_deleting_a_provisioned_claim_removes_its_directory_and_volume(
    cluster: Client,
) -> None:
    ns = await new_namespace(cluster, "pv-")
    await cluster.persistentvolumeclaims.create(claim("data", ns, "1Gi"))
    await cluster.pods.create(pod_using("user", ns, "data"))
    node = await scheduled_on(cluster, ns, "user")
    bound = await bound_claim(cluster, ns, "data")
    pv_name = bound.spec.volume_name
    path = (await cluster.persistentvolumes.get(pv_name)).spec.host_path.path
    await cluster.pods.delete("user", ns, grace_period_seconds=0)
    await cluster.persistentvolumeclaims.delete("data", ns)

    # The provisioner's helper pod, on the volume's node, removes the directory.
    async def helper() -> core_pb2.Pod | None:
        pods = (await cluster.pods.list("kube-system")).items
        return next((p for p in pods if p.metadata.name == f"helper-pod-delete-{pv_name}"), None)

    pod = await eventually(helper, what="the helper pod")
    assert pod.spec.node_name == node
    [container] = pod.spec.containers
    assert list(container.command) == ["sh", "-c", 'rm -rf "$VOL_DIR"']
    assert {e.name: e.value for e in container.env} == {"VOL_DIR": path}
    assert pod.spec.volumes[0].host_path.path == str(Path(path).parent)
    # Its kubelet runs it to completion.
    done = core_pb2.Pod()
    done.CopyFrom(pod)
    done.status.phase = "Succeeded"
    await cluster.pods.update_status(done)
    await eventually(
        lambda: gone(lambda: cluster.persistentvolumes.get(pv_name)),
        what="the provisioned volume to be deleted",
    )
    await eventually(
        lambda: gone(lambda: cluster.pods.get(pod.metadata.name, "kube-system")),
        what="the helper pod to be deleted",
    )
