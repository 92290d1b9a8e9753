"""The ephemeral volume controller against an in-memory apiserver: each ephemeral volume of a pod
gets the claim <pod>-<volume> from its template, owned by the pod; a claim of that name the pod
does not own is left alone and the pod told (FailedBinding); a claim deleted while its pod lives
is made again; a pod being deleted gets none."""

from __future__ import annotations

import asyncio

from controller.ephemeral.controller import EphemeralVolumeController
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster, running, until

NS = "default"


def ephemeral_pod(name: str = "web") -> core_pb2.Pod:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "containers": [{"name": "c", "image": "busybox"}],
                "volumes": [
                    {"name": "cache", "emptyDir": {}},
                    {
                        "name": "scratch",
                        "ephemeral": {
                            "volumeClaimTemplate": {
                                "metadata": {
                                    "labels": {"app": "web"},
                                    "annotations": {"team": "a"},
                                },
                                "spec": {
                                    "accessModes": ["ReadWriteOnce"],
                                    "storageClassName": "standard",
                                    "resources": {"requests": {"storage": "64Mi"}},
                                },
                            }
                        },
                    },
                ],
            },
        },
        core_pb2.Pod,
    )


def controller(cluster: FakeCluster) -> EphemeralVolumeController:
    return EphemeralVolumeController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]


def claims(cluster: FakeCluster) -> dict[str, core_pb2.PersistentVolumeClaim]:
    return dict(cluster.persistentvolumeclaims.store)


async def test_the_claim_is_made_from_the_template_and_owned_by_the_pod() -> None:
    cluster = FakeCluster()
    pod = await cluster.pods.create(ephemeral_pod())
    async with running(controller(cluster)):
        await until(lambda: f"{NS}/web-scratch" in claims(cluster), "the claim", cluster)
    made = claims(cluster)[f"{NS}/web-scratch"]
    assert list(claims(cluster)) == [f"{NS}/web-scratch"]
    assert dict(made.metadata.labels) == {"app": "web"}
    assert dict(made.metadata.annotations) == {"team": "a"}
    assert (made.spec.storage_class_name, dict(made.spec.resources.requests)) == (
        "standard",
        {"storage": "64Mi"},
    )
    [owner] = made.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid) == ("Pod", "web", pod.metadata.uid)
    assert owner.controller and owner.block_owner_deletion


async def test_a_claim_of_that_name_the_pod_does_not_own() -> None:
    cluster = FakeCluster()
    stranger = core_pb2.PersistentVolumeClaim()
    stranger.metadata.name, stranger.metadata.namespace = "web-scratch", NS
    await cluster.persistentvolumeclaims.create(stranger)
    await cluster.pods.create(ephemeral_pod())
    async with running(controller(cluster)):
        await until(lambda: bool(cluster.events.store), "the event", cluster)
    [event] = cluster.events.store.values()
    assert (event.type, event.reason) == ("Warning", "FailedBinding")
    assert event.message == (
        "ephemeral volume scratch: PVC default/web-scratch was not created for pod default/web "
        "(pod is not owner)"
    )
    assert not claims(cluster)[f"{NS}/web-scratch"].metadata.owner_references


async def test_a_deleted_claim_is_made_again_while_its_pod_lives() -> None:
    cluster = FakeCluster()
    await cluster.pods.create(ephemeral_pod())
    async with running(controller(cluster)):
        await until(lambda: f"{NS}/web-scratch" in claims(cluster), "the claim", cluster)
        await cluster.persistentvolumeclaims.delete("web-scratch", NS)
        await until(
            lambda: len(cluster.persistentvolumeclaims.created) == 2, "a new claim", cluster
        )
    assert f"{NS}/web-scratch" in claims(cluster)


async def test_a_pod_being_deleted_gets_no_claim() -> None:
    cluster = FakeCluster()
    doomed = ephemeral_pod()
    doomed.metadata.deletion_timestamp = "2026-11-21T15:00:00Z"
    await cluster.pods.create(doomed)
    async with running(controller(cluster)):
        cluster.deliver()
        await asyncio.sleep(0.05)
    assert not claims(cluster)
