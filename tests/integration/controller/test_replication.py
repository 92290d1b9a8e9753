"""The ReplicaSet / ReplicationController controller against the real apiserver over a real etcd,
running in this process (no kubelets: a test marks pods Running and Ready itself where readiness
matters). Replicas are kept exactly, pods are created once, matching orphans are adopted and
pods that stop matching are released, scale-down picks the pods Kubernetes would, a restarted
controller does not create what the previous one did, the template only shapes new pods, and
the status counts what a user reads in `podctl get rs`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from controller.replicaset.controller import ReplicaSetController
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.clientset import Client, ResourceClient, is_conflict
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.control_plane import mutating_requests_in_flight
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


async def edit(api: ResourceClient[Any], name: str, ns: str, change: Callable[[Any], None]) -> Any:
    """Get, change and Update; again on a conflict (the controllers write meanwhile)."""
    while True:
        obj = await api.get(name, ns)
        change(obj)
        try:
            return await api.update(obj)
        except Exception as e:
            if not is_conflict(e):
                raise


async def scale_rs(client: Client, ns: str, name: str, replicas: int) -> apps_pb2.ReplicaSet:
    def resize(rs: Any) -> None:
        rs.spec.replicas = replicas

    result: apps_pb2.ReplicaSet = await edit(client.replicasets, name, ns, resize)
    return result


async def mark_ready(client: Client, pod: core_pb2.Pod) -> None:
    """What a kubelet would report for a started, ready pod."""
    fresh = await client.pods.get(pod.metadata.name, pod.metadata.namespace)
    fresh.status.phase = "Running"
    now = timeutil.now()
    for kind in ("Ready", "ContainersReady"):
        fresh.status.conditions.add(type=kind, status="True", last_transition_time=now)
    await client.pods.update_status(fresh)


class PodEvents:
    """Every pod event of a namespace from now on: how often each pod was created and deleted."""

    MARKER = "watch-marker-"

    def __init__(self, client: Client, ns: str) -> None:
        self.client, self.ns = client, ns
        self.added: list[str] = []
        self.deleted: list[str] = []
        self.markers: list[str] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PodEvents:
        rv = (await self.client.pods.list(self.ns)).metadata.resource_version
        stream = self.client.pods.watch(self.ns, resource_version=rv)

        async def collect() -> None:
            async for event in stream:
                name = event.object.metadata.name
                if name.startswith(self.MARKER):
                    self.markers.append(name)
                elif event.type == "ADDED":
                    self.added.append(name)
                elif event.type == "DELETED":
                    self.deleted.append(name)

        self._task = asyncio.create_task(collect())
        return self

    async def caught_up(self) -> None:
        """Waits until the watch has delivered every pod change stored so far: a marker pod (no
        owner's selector matches it; not counted) made now comes after them, a watch being in
        order."""
        name = f"{self.MARKER}{len(self.markers)}"
        marker: Any = manifest.from_dict(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": self.ns},
                "spec": {"containers": [{"name": "main", "image": "busybox"}]},
            },
            core_pb2.Pod,
        )
        await self.client.pods.create(marker)

        async def marked() -> bool:
            return name in self.markers

        await eventually(marked, what="the watch to deliver the marker pod")

    def counted(self, pods: list[core_pb2.Pod]) -> list[core_pb2.Pod]:
        """The pods but the markers."""
        return [p for p in pods if not p.metadata.name.startswith(self.MARKER)]

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def status_of(client: Client, ns: str, name: str) -> Any:
    return (await client.replicasets.get(name, ns)).status


# ---------------------------------------------------------------------- creating replicas
async def test_a_replica_set_creates_its_pods_from_the_template_once(client: Client) -> None:
    ns = await new_namespace(client)
    controller = ReplicaSetController(client, SharedInformerFactory(client))
    passes = Passes.of(controller.loop)
    async with PodEvents(client, ns) as events, running(controller):
        rs = await client.replicasets.create(replica_set(ns, "web", 5))
        pods = await wait_for_pods(client, ns, rs.metadata.uid, 5)
        # The controller has seen its five pods, then passed over the ReplicaSet once more: a
        # second, wrong round of creates would have been made by now.
        await informed(controller.pods, *pods)
        await passes.resync(f"{ns}/web")
        assert len(await pods_in(client, ns)) == 5
        await events.caught_up()
    assert len(events.added) == len(set(events.added)) == 5 and events.deleted == []
    for pod in pods:
        assert pod.metadata.name.startswith("web-")
        assert dict(pod.metadata.labels) == {"app": "web", "tier": "web"}
        assert dict(pod.metadata.annotations) == {"example.com/owner": "team-a"}
        assert pod.spec.containers[0].image == "busybox"
        [ref] = pod.metadata.owner_references
        assert (
            ref.api_version,
            ref.kind,
            ref.name,
            ref.uid,
            ref.controller,
            ref.block_owner_deletion,
        ) == ("apps/v1", "ReplicaSet", "web", rs.metadata.uid, True, True)


async def test_a_replication_controller_keeps_its_replicas(client: Client) -> None:
    ns = await new_namespace(client)
    rc: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "metadata": {"name": "legacy", "namespace": ns},
            "spec": {
                "replicas": 2,
                "template": {
                    "metadata": {"labels": {"app": "legacy"}},
                    "spec": {"containers": [{"name": "main", "image": "busybox"}]},
                },
            },
        },
        core_pb2.ReplicationController,
    )
    async with running(
        ReplicaSetController.for_replication_controllers(client, SharedInformerFactory(client))
    ):
        created = await client.replicationcontrollers.create(rc)
        pods = await wait_for_pods(client, ns, created.metadata.uid, 2)
        ref = pods[0].metadata.owner_references[0]
        assert (ref.api_version, ref.kind, ref.name) == ("v1", "ReplicationController", "legacy")

        await client.pods.delete(pods[0].metadata.name, ns)
        replaced = await wait_for_pods(client, ns, created.metadata.uid, 2)
        assert pods[0].metadata.name not in {p.metadata.name for p in replaced}

        async def status_reported() -> bool:
            s = (await client.replicationcontrollers.get("legacy", ns)).status
            return (s.replicas, s.fully_labeled_replicas, s.observed_generation) == (2, 2, 1)

        await eventually(status_reported, what="the RC's status")


# ---------------------------------------------------------------------- scaling
async def test_scaling_up_and_down_deletes_not_ready_pods_first(client: Client) -> None:
    ns = await new_namespace(client)
    async with (
        PodEvents(client, ns) as events,
        running(ReplicaSetController(client, SharedInformerFactory(client))),
    ):
        rs = await client.replicasets.create(replica_set(ns, "web", 1))
        await wait_for_pods(client, ns, rs.metadata.uid, 1)
        await scale_rs(client, ns, "web", 20)
        pods = await wait_for_pods(client, ns, rs.metadata.uid, 20)
        ready = pods[:3]
        for pod in ready:
            await mark_ready(client, pod)

        async def ready_seen() -> bool:
            # The status is computed from the controller's cache: once it counts three
            # ready pods, the scale-down below ranks by what a user sees as ready.
            rs = await client.replicasets.get("web", ns)
            return rs.status.ready_replicas == 3

        await eventually(ready_seen, what="the ReplicaSet's three ready replicas")
        await scale_rs(client, ns, "web", 3)
        left = await wait_for_pods(client, ns, rs.metadata.uid, 3)
        assert {p.metadata.name for p in left} == {p.metadata.name for p in ready}
        await scale_rs(client, ns, "web", 0)
        await wait_for_pods(client, ns, rs.metadata.uid, 0)

        async def deletions_watched() -> bool:
            # The list shows none left before the watch has delivered the last deletions.
            return len(events.deleted) >= 20

        await eventually(deletions_watched, what="the watch's twenty pod deletions")
    assert len(events.added) == len(set(events.added)) == 20
    assert sorted(events.deleted) == sorted(events.added)


async def test_orphans_are_adopted_and_pods_that_stop_matching_are_released(client: Client) -> None:
    ns = await new_namespace(client)
    orphan: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "stray", "namespace": ns, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        },
        core_pb2.Pod,
    )
    await client.pods.create(orphan)
    async with running(ReplicaSetController(client, SharedInformerFactory(client))):
        rs = await client.replicasets.create(replica_set(ns, "web", 2))
        pods = await wait_for_pods(client, ns, rs.metadata.uid, 2)
        assert "stray" in {p.metadata.name for p in pods}
        assert len(await pods_in(client, ns)) == 2  # the orphan counted: one pod created

        # Relabelled out of the selector: released, and replaced.
        await edit(client.pods, "stray", ns, lambda p: p.metadata.labels.update(app="debug"))

        async def released() -> bool:
            stray = await client.pods.get("stray", ns)
            return not stray.metadata.owner_references

        await eventually(released, what="the relabelled pod to be released")
        await wait_for_pods(client, ns, rs.metadata.uid, 2)
        assert len(await pods_in(client, ns)) == 3


async def test_a_restarted_controller_creates_no_pod_twice(client: Client) -> None:
    ns = await new_namespace(client)
    async with PodEvents(client, ns) as events:
        first = Client(client.target, timeout=10)
        try:
            async with running(ReplicaSetController(first, SharedInformerFactory(first))):
                rs = await client.replicasets.create(replica_set(ns, "web", 60))

                async def some_created() -> bool:
                    return len(await pods_in(client, ns)) >= 6

                await eventually(some_created, interval=0.01, what="the first pods")
                # Stopped here, with batches of creates in flight.
        finally:
            await first.close()
        stopped_at = len(await pods_in(client, ns))

        async def old_writes_answered() -> bool:
            return mutating_requests_in_flight() == 0

        # What the old process sent has landed: the apiserver is handling no write any more,
        # and a write made after them has come through the watch cache the new one lists from.
        await eventually(old_writes_answered, interval=0.01, what="the old writes to be answered")
        await events.caught_up()

        second = Client(client.target, timeout=10)
        try:
            controller = ReplicaSetController(second, SharedInformerFactory(second))
            passes = Passes.of(controller.loop)
            async with running(controller):
                pods = await wait_for_pods(client, ns, rs.metadata.uid, 60)
                await informed(controller.pods, *pods)
                await passes.resync(f"{ns}/web")
                assert len(events.counted(await pods_in(client, ns))) == 60
        finally:
            await second.close()
        await events.caught_up()
    assert stopped_at < 60
    assert len(events.added) == len(set(events.added)) == 60
    assert events.deleted == []


async def test_passes_limited_by_the_burst_still_converge(client: Client) -> None:
    ns = await new_namespace(client)
    controller = ReplicaSetController(client, SharedInformerFactory(client), burst_replicas=4)
    async with running(controller):
        rs = await client.replicasets.create(replica_set(ns, "web", 10))
        await wait_for_pods(client, ns, rs.metadata.uid, 10)


# ---------------------------------------------------------------------- template and status
async def test_editing_the_template_changes_no_existing_pod(client: Client) -> None:
    ns = await new_namespace(client)
    async with running(ReplicaSetController(client, SharedInformerFactory(client))):
        rs = await client.replicasets.create(replica_set(ns, "web", 2, image="busybox:1.36"))
        before = await wait_for_pods(client, ns, rs.metadata.uid, 2)

        def new_release(rs: Any) -> None:
            rs.spec.template.spec.containers[0].image = "busybox:1.37"
            rs.spec.template.metadata.labels["release"] = "next"

        edited = await edit(client.replicasets, "web", ns, new_release)
        assert edited.metadata.generation == 2

        async def observed() -> bool:
            return bool((await status_of(client, ns, "web")).observed_generation == 2)

        await eventually(observed, what="generation 2 to be observed")
        after = {p.metadata.name: p for p in await owned_pods(client, ns, rs.metadata.uid)}
        assert after == {p.metadata.name: p for p in before}  # untouched, resourceVersion too

        await scale_rs(client, ns, "web", 3)
        pods = await wait_for_pods(client, ns, rs.metadata.uid, 3)
        [new] = [p for p in pods if p.metadata.name not in after]
        assert new.spec.containers[0].image == "busybox:1.37"
        assert new.metadata.labels["release"] == "next"

        async def partly_labeled() -> bool:
            s = await status_of(client, ns, "web")
            return (s.replicas, s.fully_labeled_replicas) == (3, 1)

        await eventually(partly_labeled, what="fullyLabeledReplicas 1 of 3")


async def test_status_counts_ready_and_available_replicas(client: Client) -> None:
    ns = await new_namespace(client)
    async with running(ReplicaSetController(client, SharedInformerFactory(client))):
        rs = await client.replicasets.create(replica_set(ns, "web", 3, min_ready_seconds=2))
        pods = await wait_for_pods(client, ns, rs.metadata.uid, 3)

        async def counted() -> bool:
            s = await status_of(client, ns, "web")
            return (
                s.replicas,
                s.fully_labeled_replicas,
                s.ready_replicas,
                s.available_replicas,
                s.observed_generation,
            ) == (3, 3, 0, 0, 1)

        await eventually(counted, what="3 replicas, none ready")

        for pod in pods[:2]:
            await mark_ready(client, pod)

        async def ready_not_available() -> Any:
            s = await status_of(client, ns, "web")
            return s if s.ready_replicas == 2 else None

        status = await eventually(ready_not_available, what="2 ready replicas")
        assert status.available_replicas == 0  # not yet ready for minReadySeconds

        async def available() -> bool:
            s = await status_of(client, ns, "web")
            return (s.ready_replicas, s.available_replicas) == (2, 2)

        await eventually(available, timeout=10, what="2 available replicas")


async def test_an_owner_being_deleted_is_left_alone(client: Client) -> None:
    ns = await new_namespace(client)
    hold = "example.com/hold"
    controller = ReplicaSetController(client, SharedInformerFactory(client))
    passes = Passes.of(controller.loop)
    async with running(controller):
        rs = await client.replicasets.create(replica_set(ns, "web", 2, finalizers=(hold,)))
        pods = await wait_for_pods(client, ns, rs.metadata.uid, 2)
        marked = await client.replicasets.delete("web", ns)
        gone = await client.pods.delete(pods[0].metadata.name, ns)
        # The controller has seen both, then passed over the ReplicaSet once more.
        await informed(controller.owners, marked)
        await informed(controller.pods, gone, deleted=True)
        await passes.resync(f"{ns}/web")
        assert len(await owned_pods(client, ns, rs.metadata.uid)) == 1  # not replaced

        await edit(client.replicasets, "web", ns, lambda rs: rs.metadata.finalizers.remove(hold))
