"""The garbage collector with the ReplicaSet controller, in this process, against the real
apiserver over a real etcd: deleting a ReplicaSet deletes its pods (Background, the default),
keeps them without their ownerReference (Orphan), or deletes them before the ReplicaSet itself
goes (Foreground); a dependent is deleted only once a live read confirms its owner is gone."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from controller.garbagecollector.controller import GarbageCollector
from controller.replicaset.controller import ReplicaSetController
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client, is_not_found
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.controller_support import (
    Passes,
    informed,
    owned_pods,
    pods_in,
    replica_set,
    running,
    wait_for_pods,
)
from tests.support import eventually, new_namespace


def pod(ns: str, name: str, *owners: meta_pb2.OwnerReference) -> core_pb2.Pod:
    p: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        },
        core_pb2.Pod,
    )
    p.metadata.owner_references.extend(owners)
    return p  # type: ignore[no-any-return]


def owner_ref(kind: str, api_version: str, name: str, uid: str) -> meta_pb2.OwnerReference:
    return meta_pb2.OwnerReference(api_version=api_version, kind=kind, name=name, uid=uid)


async def exists(api: Any, name: str, ns: str) -> bool:
    try:
        await api.get(name, ns)
        return True
    except grpc.aio.AioRpcError as e:
        if is_not_found(e):
            return False
        raise


def replication_and_collector(client: Client) -> tuple[ReplicaSetController[Any], GarbageCollector]:
    """The ReplicaSet controller and the garbage collector on one factory, as the
    controller-manager runs them."""
    informers = SharedInformerFactory(client)
    return ReplicaSetController(client, informers), GarbageCollector(client, informers)


async def web_replica_set(client: Client, ns: str, replicas: int = 3) -> Any:
    rs = await client.replicasets.create(replica_set(ns, "web", replicas))
    await wait_for_pods(client, ns, rs.metadata.uid, replicas)
    return rs


async def test_background_deletion_deletes_the_pods(client: Client) -> None:
    ns = await new_namespace(client)
    async with running(*replication_and_collector(client)):
        await web_replica_set(client, ns)
        await client.replicasets.delete("web", ns)
        assert not await exists(client.replicasets, "web", ns)  # gone at once

        async def no_pods() -> bool:
            return not await pods_in(client, ns)

        await eventually(no_pods, what="the ReplicaSet's pods to be deleted")


async def test_orphan_deletion_keeps_the_pods_without_their_owner(client: Client) -> None:
    ns = await new_namespace(client)
    replication, collector = replication_and_collector(client)
    collector_passes, replication_passes = Passes.of(collector.loop), Passes.of(replication.loop)
    async with running(replication, collector):
        rs = await web_replica_set(client, ns)
        marked = await client.replicasets.delete("web", ns, propagation_policy="Orphan")
        assert list(marked.metadata.finalizers) == ["orphan"]

        async def rs_gone() -> bool:
            return not await exists(client.replicasets, "web", ns)

        await eventually(rs_gone, what="the ReplicaSet to be deleted")
        # Nothing else happens to the pods: both controllers have seen the pods orphaned and
        # the ReplicaSet gone, then passed over each of them once more.
        orphaned = await pods_in(client, ns)
        await informed(replication.pods, *orphaned)
        await informed(replication.owners, marked, deleted=True)
        for p in orphaned:
            await collector_passes.resync(f"pods/{ns}/{p.metadata.name}")
        await collector_passes.resync(f"replicasets/{ns}/web")
        await replication_passes.resync(f"{ns}/web")
        pods = await pods_in(client, ns)
        assert len(pods) == 3
        assert all(not p.metadata.owner_references for p in pods)
        assert not await owned_pods(client, ns, rs.metadata.uid)


async def test_foreground_deletion_deletes_the_pods_before_the_replica_set(client: Client) -> None:
    ns = await new_namespace(client)
    async with running(*replication_and_collector(client)):
        await web_replica_set(client, ns)
        listed = await client.replicasets.list(ns)
        rs_events = client.replicasets.watch(ns, resource_version=listed.metadata.resource_version)
        pod_events = client.pods.watch(ns, resource_version=listed.metadata.resource_version)
        marked = await client.replicasets.delete("web", ns, propagation_policy="Foreground")
        assert list(marked.metadata.finalizers) == ["foregroundDeletion"]
        assert marked.metadata.deletion_timestamp

        async def deletion_revision(stream: Any, count: int) -> list[int]:
            revisions = []
            async for event in stream:
                if event.type == "DELETED":
                    revisions.append(int(event.object.metadata.resource_version))
                    if len(revisions) == count:
                        stream.cancel()
                        return revisions
            return revisions

        async with asyncio.timeout(30):
            [rs_deleted] = await deletion_revision(rs_events, 1)
        async with asyncio.timeout(5):
            pods_deleted = await deletion_revision(pod_events, 3)
        assert max(pods_deleted) < rs_deleted
        assert not await pods_in(client, ns)


async def test_a_dependent_goes_only_once_its_owner_is_confirmed_gone(client: Client) -> None:
    ns = await new_namespace(client)
    settings: Any = await client.configmaps.create(
        manifest.from_dict(  # type: ignore[arg-type]
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": ns},
                "data": {"a": "b"},
            }
        )
    )
    rs = await client.replicasets.create(replica_set(ns, "web", 0))
    rs_ref = owner_ref("ReplicaSet", "apps/v1", "web", rs.metadata.uid)
    for p in [
        # An owner of a kind the collector does not watch: read live, it exists.
        pod(ns, "config-owned", owner_ref("ConfigMap", "v1", "settings", settings.metadata.uid)),
        # The owner's name exists, with another uid: that owner is gone.
        pod(ns, "stale-uid", owner_ref("ReplicaSet", "apps/v1", "web", "an-older-uid")),
        pod(ns, "never-existed", owner_ref("ReplicaSet", "apps/v1", "nobody", "no-uid")),
        # One owner left: only the reference to the gone one is removed.
        pod(ns, "two-owners", rs_ref, owner_ref("Deployment", "apps/v1", "gone", "gone-uid")),
        pod(ns, "owned", rs_ref),
    ]:
        await client.pods.create(p)
    collector = GarbageCollector(client, SharedInformerFactory(client))
    passes = Passes.of(collector.loop)
    async with running(collector):

        async def collected() -> bool:
            names = {p.metadata.name for p in await pods_in(client, ns)}
            return names == {"config-owned", "two-owners", "owned"}

        await eventually(collected, what="the pods of gone owners to be deleted")

        async def reference_removed() -> bool:
            p = await client.pods.get("two-owners", ns)
            return [r.uid for r in p.metadata.owner_references] == [rs.metadata.uid]

        await eventually(reference_removed, what="the gone owner's reference to be removed")
        # The collector has seen the remaining pods as they are, then passed over each once more.
        remaining = await pods_in(client, ns)
        _, pod_informer = collector.informers["pods"]
        await informed(pod_informer, *remaining)
        for p in remaining:
            await passes.resync(f"pods/{ns}/{p.metadata.name}")
        assert {p.metadata.name for p in await pods_in(client, ns)} == {
            "config-owned",
            "two-owners",
            "owned",
        }


@pytest.mark.parametrize("policy", ["Orphan", "Foreground"])
async def test_an_owner_without_dependents_is_finalized(client: Client, policy: str) -> None:
    ns = await new_namespace(client)
    async with running(GarbageCollector(client, SharedInformerFactory(client))):
        await client.replicasets.create(replica_set(ns, "empty", 0))
        await client.replicasets.delete("empty", ns, propagation_policy=policy)

        async def gone() -> bool:
            return not await exists(client.replicasets, "empty", ns)

        await eventually(gone, what=f"the {policy} deletion to complete")


async def test_foreground_deletion_cascades_level_by_level(client: Client) -> None:
    """A Deployment's ReplicaSet, which has pods of its own, is itself deleted in the foreground:
    the pods go first, then the ReplicaSet, then the Deployment."""
    ns = await new_namespace(client)
    deployment: Any = await client.deployments.create(
        manifest.from_dict(
            {  # type: ignore[arg-type]
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "namespace": ns},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
                    },
                },
            }
        )
    )
    child = replica_set(ns, "web", 2)
    child.metadata.owner_references.append(
        meta_pb2.OwnerReference(
            api_version="apps/v1",
            kind="Deployment",
            name="web",
            uid=deployment.metadata.uid,
            controller=True,
            block_owner_deletion=True,
        )
    )
    async with running(*replication_and_collector(client)):
        rs = await client.replicasets.create(child)
        await wait_for_pods(client, ns, rs.metadata.uid, 2)
        start = (await client.pods.list(ns)).metadata.resource_version
        streams = [
            api.watch(ns, resource_version=start)
            for api in (client.pods, client.replicasets, client.deployments)
        ]
        await client.deployments.delete("web", ns, propagation_policy="Foreground")

        async def deleted_at(stream: Any, count: int) -> list[int]:
            revisions = []
            async for event in stream:
                if event.type == "DELETED":
                    revisions.append(int(event.object.metadata.resource_version))
                    if len(revisions) == count:
                        break
            stream.cancel()
            return revisions

        async with asyncio.timeout(30):
            pods, [rs_deleted], [deployment_deleted] = await asyncio.gather(
                deleted_at(streams[0], 2), deleted_at(streams[1], 1), deleted_at(streams[2], 1)
            )
        assert max(pods) < rs_deleted < deployment_deleted


async def test_a_claim_owned_by_a_pod_goes_with_it(client: Client) -> None:
    """An ephemeral volume's claim (the ephemeral volume controller makes the pod its owner)."""
    ns = await new_namespace(client)
    async with running(GarbageCollector(client, SharedInformerFactory(client))):
        owner = await client.pods.create(pod(ns, "web"))
        claim: Any = manifest.from_dict(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "web-scratch", "namespace": ns},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            },
            core_pb2.PersistentVolumeClaim,
        )
        ref = owner_ref("Pod", "v1", "web", owner.metadata.uid)
        ref.controller = ref.block_owner_deletion = True
        claim.metadata.owner_references.append(ref)
        await client.persistentvolumeclaims.create(claim)
        await client.pods.delete("web", ns, grace_period_seconds=0)

        async def claim_deleted() -> bool:
            # Deleted: it keeps its kubernetes.io/pvc-protection finalizer until the claim
            # protection controller (not running here) lets it go.
            try:
                found = await client.persistentvolumeclaims.get("web-scratch", ns)
            except grpc.aio.AioRpcError as e:
                return is_not_found(e)
            return bool(found.metadata.deletion_timestamp)

        await eventually(claim_deleted, timeout=30, what="the claim to be deleted with its pod")
