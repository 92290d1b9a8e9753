"""The storage protection controllers against an in-memory apiserver: a claim being deleted keeps
its finalizer while a scheduled pod uses it (whatever the pod's phase), and loses it once the pod
is gone; a volume being deleted keeps its finalizer while Bound; objects made without the
finalizer get it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from controller.pvcprotection.controller import PVCProtectionController, pod_uses_claim
from controller.pvprotection.controller import PVProtectionController
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster, running, until

NS = "default"
PVC_FINALIZER = "kubernetes.io/pvc-protection"
PV_FINALIZER = "kubernetes.io/pv-protection"


def claim(finalizers: tuple[str, ...] = (PVC_FINALIZER,)) -> core_pb2.PersistentVolumeClaim:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": NS, "finalizers": list(finalizers)},
            "spec": {"accessModes": ["ReadWriteOnce"]},
        },
        core_pb2.PersistentVolumeClaim,
    )


def pod(name: str, node: str = "node-a", phase: str = "Running") -> core_pb2.Pod:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "nodeName": node,
                "containers": [{"name": "c", "image": "busybox"}],
                "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}],
            },
            "status": {"phase": phase},
        },
        core_pb2.Pod,
    )


@pytest.mark.parametrize(
    ("the_pod", "uses"),
    [
        (pod("running"), True),
        (pod("finished", phase="Succeeded"), True),  # until it is deleted
        (pod("pending", node=""), False),  # the kubelet would refuse it now
    ],
)
def test_which_pods_use_a_claim(the_pod: core_pb2.Pod, uses: bool) -> None:
    assert pod_uses_claim(the_pod, named_claim("data")) is uses
    assert pod_uses_claim(the_pod, named_claim("other")) is False


def named_claim(name: str, owner: core_pb2.Pod | None = None) -> core_pb2.PersistentVolumeClaim:
    claim = core_pb2.PersistentVolumeClaim(metadata=meta_pb2.ObjectMeta(name=name, namespace=NS))
    if owner is not None:
        claim.metadata.owner_references.add(
            kind="Pod", name=owner.metadata.name, uid=owner.metadata.uid, controller=True
        )
    return claim


def ephemeral_pod(phase: str = "Running") -> core_pb2.Pod:
    the_pod = pod("web", phase=phase)
    the_pod.metadata.uid = "uid-web"
    del the_pod.spec.volumes[:]
    the_pod.spec.volumes.add(name="scratch", ephemeral=core_pb2.EphemeralVolumeSource())
    return the_pod


def test_a_pod_uses_its_own_ephemeral_claim_until_it_finishes() -> None:
    running = ephemeral_pod()
    assert pod_uses_claim(running, named_claim("web-scratch", owner=running))
    # A claim of that name it does not own is not its claim.
    assert not pod_uses_claim(running, named_claim("web-scratch"))
    done = ephemeral_pod("Succeeded")
    assert not pod_uses_claim(done, named_claim("web-scratch", owner=done))


async def mark_deleted(api: Any, key: str) -> None:
    marked = type(api.store[key])()
    marked.CopyFrom(api.store[key])
    marked.metadata.deletion_timestamp = "2026-11-21T15:00:00Z"
    await api.update(marked)


async def test_a_claim_in_use_keeps_its_finalizer_until_its_pod_is_gone() -> None:
    cluster = FakeCluster()
    await cluster.persistentvolumeclaims.create(claim())
    await cluster.pods.create(pod("user"))
    async with running(PVCProtectionController(cluster, SharedInformerFactory(cluster))):  # type: ignore[arg-type]
        await mark_deleted(cluster.persistentvolumeclaims, f"{NS}/data")
        cluster.deliver()
        await asyncio.sleep(0.05)
        assert list(cluster.persistentvolumeclaims.store[f"{NS}/data"].metadata.finalizers) == [
            PVC_FINALIZER
        ]
        await cluster.pods.delete("user", NS)
        await until(
            lambda: not cluster.persistentvolumeclaims.store[f"{NS}/data"].metadata.finalizers,
            "the finalizer to go",
            cluster,
        )


async def test_the_apiserver_is_asked_when_the_cache_shows_no_user() -> None:
    """A pod created a moment ago may not be cached yet: a live list finds it."""
    cluster = FakeCluster()
    await cluster.persistentvolumeclaims.create(claim())
    controller = PVCProtectionController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]
    async with running(controller):
        cluster.deliver()
        await until(lambda: controller.claims.has_synced, "the cache", cluster)
        await cluster.pods.create(pod("new"))  # not delivered: the cache does not have it
        await mark_deleted(cluster.persistentvolumeclaims, f"{NS}/data")
        cluster.deliver(cluster.persistentvolumeclaims.resource)
        await asyncio.sleep(0.05)
        assert cluster.persistentvolumeclaims.store[f"{NS}/data"].metadata.finalizers


async def test_an_unprotected_claim_gets_the_finalizer() -> None:
    cluster = FakeCluster()
    await cluster.persistentvolumeclaims.create(claim(finalizers=()))
    async with running(PVCProtectionController(cluster, SharedInformerFactory(cluster))):  # type: ignore[arg-type]
        await until(
            lambda: (
                list(cluster.persistentvolumeclaims.store[f"{NS}/data"].metadata.finalizers)
                == [PVC_FINALIZER]
            ),
            "the finalizer",
            cluster,
        )


async def test_a_bound_volume_keeps_its_finalizer_until_released() -> None:
    cluster = FakeCluster()
    volume = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv1", "finalizers": [PV_FINALIZER]},
            "spec": {"capacity": {"storage": "1Gi"}},
            "status": {"phase": "Bound"},
        },
        core_pb2.PersistentVolume,
    )
    await cluster.persistentvolumes.create(volume)
    async with running(PVProtectionController(cluster, SharedInformerFactory(cluster))):  # type: ignore[arg-type]
        await mark_deleted(cluster.persistentvolumes, "/pv1")
        cluster.deliver()
        await asyncio.sleep(0.05)
        assert cluster.persistentvolumes.store["/pv1"].metadata.finalizers
        released = core_pb2.PersistentVolume()
        released.CopyFrom(cluster.persistentvolumes.store["/pv1"])
        released.status.phase = "Released"
        await cluster.persistentvolumes.update_status(released)
        await until(
            lambda: not cluster.persistentvolumes.store["/pv1"].metadata.finalizers,
            "the finalizer to go",
            cluster,
        )
