"""StatefulSet updates on the in-memory apiserver: a RollingUpdate replaces pods from the highest
ordinal down, one at a time, each once the one above is healthy again, and stops at the
partition; OnDelete waits for the user to delete a pod; the revisions are ControllerRevisions (a
rollback renumbers the old one rather than making another; the oldest beyond
revisionHistoryLimit go), and the status follows the rollout to its end."""

from __future__ import annotations

import json

from controller.statefulset import identity
from podplane.api.apps.v1 import apps_pb2
from tests.unit.controller.statefulset_support import Cluster, running, statefulset


def image_of(cluster: Cluster, name: str) -> str:
    pod = cluster.pod(name)
    assert pod is not None
    return pod.spec.containers[0].image


def images(cluster: Cluster) -> list[str]:
    return [image_of(cluster, n) for n in cluster.pod_names()]


def set_image(image: str) -> object:
    def change(sts: apps_pb2.StatefulSet) -> None:
        sts.spec.template.spec.containers[0].image = image

    return change


async def ready_set(cluster: Cluster, replicas: int) -> None:
    await cluster.roll_until(
        lambda: (
            cluster.sts().status.ready_replicas == replicas
            and cluster.sts().status.updated_replicas == replicas
        ),
        f"{replicas} ready",
    )


async def test_rolling_update_goes_from_the_highest_ordinal_down() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(3, claims=False))
    async with running(cluster):
        await ready_set(cluster, 3)
        first = cluster.sts().status.current_revision
        await cluster.update_set(set_image("busybox:1.38"))  # type: ignore[arg-type]
        await cluster.until(lambda: cluster.api.pods.deleted == ["web-2"], "web-2 deleted")
        await cluster.settle()
        # Nothing else goes until the new web-2 is running and ready.
        assert cluster.api.pods.deleted == ["web-2"]
        await cluster.roll_until(
            lambda: (
                images(cluster) == ["busybox:1.38"] * 3
                and cluster.sts().status.current_revision != first
            ),
            "the rollout",
        )
    assert cluster.api.pods.deleted == ["web-2", "web-1", "web-0"]
    status = cluster.sts().status
    assert status.current_revision == status.update_revision
    assert (status.current_replicas, status.updated_replicas) == (3, 3)
    assert [r.revision for r in cluster.revisions()] == [1, 2]


async def test_a_partition_keeps_the_pods_below_it() -> None:
    cluster = Cluster()
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    await cluster.api.statefulsets.create(statefulset(4, claims=False, updateStrategy=strategy))
    async with running(cluster):
        await ready_set(cluster, 4)
        await cluster.update_set(set_image("busybox:1.38"))  # type: ignore[arg-type]
        await cluster.roll_until(
            lambda: (
                cluster.sts().status.updated_replicas == 2
                and cluster.sts().status.ready_replicas == 4
            ),
            "web-2 and web-3 updated",
        )
        await cluster.settle()
        assert images(cluster) == ["busybox:1.37", "busybox:1.37", "busybox:1.38", "busybox:1.38"]
        status = cluster.sts().status
        assert status.current_revision != status.update_revision
        assert (status.current_replicas, status.updated_replicas) == (2, 2)
        # A pod below the partition that is deleted comes back at the current revision.
        await cluster.api.pods.delete("web-0", "default")
        await cluster.roll_until(lambda: cluster.pod("web-0") is not None, "web-0 again")
        assert image_of(cluster, "web-0") == "busybox:1.37"
        # Lowering the partition carries on.
        await cluster.update_set(
            lambda s: setattr(s.spec.update_strategy.rolling_update, "partition", 0)
        )
        await cluster.roll_until(
            lambda: (
                images(cluster) == ["busybox:1.38"] * 4
                and cluster.sts().status.current_revision == cluster.sts().status.update_revision
            ),
            "the whole rollout",
        )


async def test_on_delete_updates_only_the_pods_the_user_deletes() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(
        statefulset(2, claims=False, updateStrategy={"type": "OnDelete"})
    )
    async with running(cluster):
        await ready_set(cluster, 2)
        await cluster.update_set(set_image("busybox:1.38"))  # type: ignore[arg-type]
        await cluster.until(lambda: cluster.sts().status.observed_generation == 2, "observed")
        await cluster.settle()
        assert cluster.api.pods.deleted == []
        await cluster.api.pods.delete("web-1", "default")
        await cluster.roll_until(
            lambda: cluster.pod("web-1") is not None and image_of(cluster, "web-1").endswith("38"),
            "web-1 updated",
        )
        await cluster.until(lambda: cluster.sts().status.updated_replicas == 1, "1 updated")
        assert image_of(cluster, "web-0") == "busybox:1.37"
        assert cluster.sts().status.current_replicas == 1


async def test_a_rollback_renumbers_the_earlier_revision() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(1, claims=False))
    async with running(cluster):
        await ready_set(cluster, 1)
        await cluster.update_set(set_image("busybox:1.38"))  # type: ignore[arg-type]
        await cluster.roll_until(lambda: images(cluster) == ["busybox:1.38"], "updated")
        await cluster.update_set(set_image("busybox:1.37"))  # type: ignore[arg-type]
        await cluster.roll_until(
            lambda: (
                images(cluster) == ["busybox:1.37"]
                and cluster.sts().status.current_revision == cluster.sts().status.update_revision
            ),
            "rolled back",
        )
    revisions = cluster.revisions()
    assert len(revisions) == 2
    first, second = revisions
    assert first.revision == 2 and second.revision == 3
    assert cluster.sts().status.update_revision == second.metadata.name
    pod = cluster.pod("web-0")
    assert pod is not None and identity.pod_revision(pod) == second.metadata.name


async def test_revision_data_is_a_patch_that_restores_the_template() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(1, claims=False))
    async with running(cluster):
        await cluster.until(lambda: len(cluster.revisions()) == 1, "a revision")
    [revision] = cluster.revisions()
    data = json.loads(revision.data)
    template = data["spec"]["template"]
    assert list(data) == ["spec"] and list(data["spec"]) == ["template"]
    assert template["$patch"] == "replace"
    assert template["spec"]["containers"][0]["image"] == "busybox:1.37"
    assert dict(revision.metadata.labels)["app"] == "nginx"
    [ref] = revision.metadata.owner_references
    assert (ref.kind, ref.name, ref.controller) == ("StatefulSet", "web", True)


async def test_history_beyond_the_limit_is_deleted() -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(statefulset(1, claims=False, revisionHistoryLimit=1))
    async with running(cluster):
        await ready_set(cluster, 1)
        for image in ("busybox:1.38", "busybox:1.39", "busybox:1.40"):
            await cluster.update_set(set_image(image))  # type: ignore[arg-type]
            await cluster.roll_until(
                lambda image=image: (
                    images(cluster) == [image]  # type: ignore[misc]
                    and cluster.sts().status.current_revision
                    == cluster.sts().status.update_revision
                ),
                image,
            )
        # The live revision and one more.
        await cluster.until(
            lambda: [r.revision for r in cluster.revisions()] == [3, 4], "the history truncated"
        )
        await cluster.settle()
    assert [r.revision for r in cluster.revisions()] == [3, 4]  # and no more deleted
