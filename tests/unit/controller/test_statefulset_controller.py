"""The StatefulSet controller's ordering and claims decisions, on the in-memory apiserver: pods
<set>-<ordinal> with their identity, made one at a time (OrderedReady) or all at once (Parallel),
each after its claims; a deleted or failed pod comes back under its name on its claim; scale-down
from the highest ordinal; ordinals.start; the status it writes."""

from __future__ import annotations

from controller.statefulset import identity
from tests.unit.controller.statefulset_support import Cluster, running, statefulset


async def test_ordered_ready_makes_one_pod_at_a_time_each_after_its_claim() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(3))
    async with running(cluster):
        await cluster.until(lambda: cluster.pod_names() == ["web-0"], "web-0")
        await cluster.settle()
        # web-1 waits for web-0 to be Running and Ready.
        assert cluster.pod_names() == ["web-0"]
        assert cluster.claim_names() == ["www-web-0"]
        await cluster.start("web-0")
        await cluster.until(lambda: cluster.pod_names() == ["web-0", "web-1"], "web-1")
        await cluster.settle()
        assert cluster.pod_names() == ["web-0", "web-1"]
        await cluster.start("web-1")
        await cluster.until(lambda: len(cluster.pod_names()) == 3, "web-2")
        await cluster.start("web-2")
        await cluster.until(lambda: cluster.sts().status.ready_replicas == 3, "3 ready")
    created = [c.metadata.name for c in cluster.api.persistentvolumeclaims.created]
    assert created == ["www-web-0", "www-web-1", "www-web-2"]
    # Each claim came before its pod.
    assert cluster.event_messages()[:2] == [
        "create Claim www-web-0 Pod web-0 in StatefulSet web success",
        "create Pod web-0 in StatefulSet web successful",
    ]


async def test_a_pod_has_its_identity_and_its_claims_volume() -> None:
    cluster = Cluster()
    sts = await cluster.api.statefulsets.create(statefulset(1))
    async with running(cluster):
        await cluster.until(lambda: cluster.pod("web-0") is not None, "web-0")
        await cluster.until(lambda: cluster.sts().status.update_revision != "", "a status")
    pod = cluster.pod("web-0")
    assert pod is not None
    assert pod.spec.hostname == "web-0"
    assert pod.spec.subdomain == "nginx"
    revision = cluster.sts().status.update_revision
    assert dict(pod.metadata.labels) == {
        "app": "nginx",
        "statefulset.kubernetes.io/pod-name": "web-0",
        "apps.kubernetes.io/pod-index": "0",
        "controller-revision-hash": revision,
    }
    assert pod.metadata.generate_name == "web-"
    [ref] = pod.metadata.owner_references
    assert (ref.kind, ref.name, ref.uid, ref.controller) == (
        "StatefulSet",
        "web",
        sts.metadata.uid,
        True,
    )
    [volume] = pod.spec.volumes
    assert (volume.name, volume.persistent_volume_claim.claim_name) == ("www", "www-web-0")
    claim = cluster.claim("www-web-0")
    assert claim is not None
    assert dict(claim.metadata.labels) == {"app": "nginx"}
    assert list(claim.spec.access_modes) == ["ReadWriteOnce"]
    # Retain/Retain: the claim has no owner, so nothing deletes it with the pod or the set.
    assert list(claim.metadata.owner_references) == []


async def test_parallel_makes_every_pod_at_once() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(4, podManagementPolicy="Parallel"))
    async with running(cluster):
        await cluster.until(lambda: len(cluster.pod_names()) == 4, "4 pods")
    assert cluster.pod_names() == ["web-0", "web-1", "web-2", "web-3"]
    assert all(p.status.phase == "Pending" for p in cluster.api.pods.store.values())
    assert cluster.claim_names() == ["www-web-0", "www-web-1", "www-web-2", "www-web-3"]


async def test_ordinals_start_names_the_pods_from_it() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(2, ordinals={"start": 5}))
    async with running(cluster):
        await cluster.roll_until(lambda: len(cluster.pod_names()) == 2, "2 pods")
    assert cluster.pod_names() == ["web-5", "web-6"]
    assert cluster.claim_names() == ["www-web-5", "www-web-6"]
    pod = cluster.pod("web-6")
    assert pod is not None and pod.metadata.labels[identity.POD_INDEX_LABEL] == "6"


async def test_a_deleted_pod_comes_back_on_its_claim() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(3))
    async with running(cluster):
        await cluster.roll_until(lambda: cluster.sts().status.ready_replicas == 3, "3 ready")
        await cluster.api.pods.delete("web-1", "default")
        await cluster.until(
            lambda: [p.metadata.name for p in cluster.api.pods.created].count("web-1") == 2,
            "web-1 again",
        )
    pod = cluster.pod("web-1")
    assert pod is not None
    assert pod.spec.volumes[0].persistent_volume_claim.claim_name == "www-web-1"
    # Its claim was kept: no second one was made.
    assert [c.metadata.name for c in cluster.api.persistentvolumeclaims.created].count(
        "www-web-1"
    ) == 1


async def test_a_failed_pod_is_deleted_and_made_again() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(2, claims=False))
    async with running(cluster):
        await cluster.roll_until(lambda: cluster.sts().status.ready_replicas == 2, "2 ready")
        await cluster.fail("web-0")
        await cluster.until(lambda: "web-0" in cluster.api.pods.deleted, "web-0 deleted")
        await cluster.until(lambda: cluster.pod("web-0") is not None, "web-0 again")
    assert "delete Pod web-0 in StatefulSet web successful" in cluster.event_messages()


async def test_scale_down_removes_the_highest_ordinal_first_one_at_a_time() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(4, claims=False))
    async with running(cluster):
        await cluster.roll_until(lambda: cluster.sts().status.ready_replicas == 4, "4 ready")
        await cluster.update_set(lambda s: setattr(s.spec, "replicas", 1))
        await cluster.until(lambda: cluster.pod_names() == ["web-0"], "1 pod left")
    assert cluster.api.pods.deleted == ["web-3", "web-2", "web-1"]


async def test_ordered_scale_down_waits_while_a_pod_is_unhealthy() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(3, claims=False))
    async with running(cluster):
        await cluster.roll_until(lambda: cluster.sts().status.ready_replicas == 3, "3 ready")
        # web-0 stops being ready; web-2 may not go until it is back.
        pod = cluster.pod("web-0")
        assert pod is not None
        unready = type(pod)()
        unready.CopyFrom(pod)
        unready.status.conditions[0].status = "False"
        await cluster.api.pods.update_status(unready)
        await cluster.update_set(lambda s: setattr(s.spec, "replicas", 2))
        await cluster.settle()
        assert cluster.api.pods.deleted == []
        await cluster.start("web-0")
        await cluster.until(lambda: cluster.api.pods.deleted == ["web-2"], "web-2 deleted")


async def test_status_counts_the_pods_and_names_the_revision() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(2))
    async with running(cluster):
        await cluster.roll_until(lambda: cluster.sts().status.available_replicas == 2, "ready")
    status = cluster.sts().status
    [revision] = cluster.revisions()
    assert (status.replicas, status.ready_replicas, status.available_replicas) == (2, 2, 2)
    assert (status.current_replicas, status.updated_replicas) == (2, 2)
    assert status.current_revision == status.update_revision == revision.metadata.name
    assert status.observed_generation == 1
    assert status.HasField("collision_count") and status.collision_count == 0
    assert revision.metadata.name.startswith("web-")
    assert revision.revision == 1
