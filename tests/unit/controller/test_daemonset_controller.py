"""The DaemonSet controller against an in-memory apiserver (pods are bound and started by the
test, standing in for the scheduler and the kubelets): one pod per eligible node, a node added
gets one, a node that no longer fits loses it, a template change rolls node by node within
maxUnavailable (or surges within maxSurge), OnDelete waits for deletions, failed pods are
replaced, the history keeps one revision per template, and the status counts it all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from controller.daemon.controller import DaemonSetsController
from controller.daemon.placement import REVISION_HASH_LABEL, TEMPLATE_GENERATION_LABEL
from controller.daemon.revisions import revision_hash, template_patch
from controller.framework import pod_state
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit import waiting
from tests.unit.controller.daemonset_objects import (
    NS,
    daemon_set,
    live_pods,
    node,
    pods_by_node,
    run_pods,
    set_phase,
    with_template,
)
from tests.unit.controller.fake_api import FakeCluster, running, until

TAINT = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}


async def cluster_with(*nodes: core_pb2.Node) -> tuple[FakeCluster, DaemonSetsController]:
    cluster = FakeCluster()
    for n in nodes:
        await cluster.nodes.create(n)
    return cluster, DaemonSetsController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]


def stored(cluster: FakeCluster, name: str = "agent") -> apps_pb2.DaemonSet:
    return cluster.daemonsets.store[f"{NS}/{name}"]


def images(cluster: FakeCluster) -> dict[str, list[str]]:
    return {
        n: sorted(p.spec.containers[0].image for p in pods)
        for n, pods in sorted(pods_by_node(cluster).items())
    }


async def settle(
    cluster: FakeCluster,
    check: Callable[[], bool],
    what: str,
    *,
    ready: bool = True,
    observe: Callable[[], None] | None = None,
) -> None:
    """Delivers events and starts new pods (as the scheduler and kubelets would) until `check`."""
    deadline = time.monotonic() + waiting.TIMEOUT
    while time.monotonic() < deadline:
        cluster.deliver()
        await asyncio.sleep(0.005)
        await run_pods(cluster, ready=ready)
        if observe is not None:
            observe()
        if check():
            return
    raise AssertionError(f"timed out waiting for {what}")


async def test_one_pod_per_eligible_node_steered_there_by_affinity() -> None:
    cluster, controller = await cluster_with(
        node("n1"), node("n2", unschedulable=True), node("n3", taints=[TAINT])
    )
    await cluster.daemonsets.create(daemon_set())
    async with running(controller):
        await until(lambda: len(cluster.pods.store) == 2, "two pods", cluster)
        await asyncio.sleep(0.05)
        assert sorted(pods_by_node(cluster)) == ["n1", "n2"]  # n3's taint is not tolerated
        pod = live_pods(cluster)[0]
        assert not pod.spec.node_name  # the scheduler binds it
        assert pod.metadata.generate_name == "agent-"
        ref = pod.metadata.owner_references[0]
        assert (ref.kind, ref.name, ref.controller, ref.block_owner_deletion) == (
            "DaemonSet",
            "agent",
            True,
            True,
        )
        ds = stored(cluster)
        assert pod.metadata.labels[REVISION_HASH_LABEL] == revision_hash(ds)
        assert pod.metadata.labels[TEMPLATE_GENERATION_LABEL] == "1"
        assert {t.key for t in pod.spec.tolerations} >= {
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unschedulable",
        }
        await settle(cluster, lambda: stored(cluster).status.number_available == 2, "available")
        status = stored(cluster).status
        assert (
            status.desired_number_scheduled,
            status.current_number_scheduled,
            status.number_ready,
            status.updated_number_scheduled,
            status.number_unavailable,
            status.number_misscheduled,
            status.observed_generation,
        ) == (2, 2, 2, 2, 0, 0, 1)


async def test_a_node_added_gets_a_pod_and_a_node_that_no_longer_fits_loses_it() -> None:
    cluster, controller = await cluster_with(node("n1", labels={"role": "edge"}))
    await cluster.daemonsets.create(daemon_set(template_spec={"nodeSelector": {"role": "edge"}}))
    async with running(controller):
        await settle(cluster, lambda: sorted(pods_by_node(cluster)) == ["n1"], "n1's pod")
        await cluster.nodes.create(node("n2", labels={"role": "edge"}))
        await cluster.nodes.create(node("n3"))
        await settle(cluster, lambda: sorted(pods_by_node(cluster)) == ["n1", "n2"], "n2's pod")
        relabelled = core_pb2.Node()
        relabelled.CopyFrom(await cluster.nodes.get("n1"))
        relabelled.metadata.labels["role"] = "core"
        await cluster.nodes.update(relabelled)
        await settle(cluster, lambda: sorted(pods_by_node(cluster)) == ["n2"], "n1's pod gone")
        # A NoSchedule taint keeps a running pod (misscheduled) but lets no new one start.
        tainted = core_pb2.Node()
        tainted.CopyFrom(await cluster.nodes.get("n2"))
        tainted.spec.taints.add(**TAINT)
        await cluster.nodes.update(tainted)
        await settle(
            cluster,
            lambda: (
                (
                    stored(cluster).status.number_misscheduled,
                    stored(cluster).status.desired_number_scheduled,
                )
                == (1, 0)
            ),
            "misscheduled",
        )
        assert sorted(pods_by_node(cluster)) == ["n2"]


async def test_it_does_not_create_again_before_its_cache_shows_its_creates() -> None:
    cluster, controller = await cluster_with(node("n1"), node("n2"))
    await cluster.daemonsets.create(daemon_set())
    async with running(controller):
        await waiting.until(
            lambda: len(cluster.pods.created) == 2,
            "two pods created",
            each=lambda: cluster.deliver(
                resources.NODE, resources.DAEMON_SET, resources.CONTROLLER_REVISION
            ),
        )
        for _ in range(20):  # DaemonSet and revision events, but not the pods'
            cluster.deliver(resources.DAEMON_SET, resources.CONTROLLER_REVISION)
            await asyncio.sleep(0.01)
        assert len(cluster.pods.created) == 2
        assert controller.expectations.pending(f"{NS}/agent") == (2, 0)
        assert stored(cluster).status.current_number_scheduled == 0
        cluster.deliver()
        await until(
            lambda: stored(cluster).status.current_number_scheduled == 2, "counted", cluster
        )
        assert len(cluster.pods.created) == 2


async def test_a_rolling_update_replaces_one_node_at_a_time() -> None:
    cluster, controller = await cluster_with(*(node(f"n{i}") for i in range(4)))
    await cluster.daemonsets.create(daemon_set())
    unavailable_seen: list[int] = []

    def observe() -> None:
        serving = {
            n
            for n, pods in pods_by_node(cluster).items()
            if any(pod_state.is_ready(p) for p in pods)
        }
        unavailable_seen.append(4 - len(serving))

    async with running(controller):
        await settle(cluster, lambda: stored(cluster).status.number_available == 4, "available")
        await with_template(cluster, "agent", "busybox:2")
        await settle(
            cluster,
            lambda: (
                images(cluster) == {f"n{i}": ["busybox:2"] for i in range(4)}
                and stored(cluster).status.updated_number_scheduled == 4
            ),
            "every node updated",
            observe=observe,
        )
    assert max(unavailable_seen) == 1
    status = stored(cluster).status
    assert (status.observed_generation, status.number_available) == (2, 4)


async def test_a_rolling_update_with_max_unavailable_two_takes_two_at_a_time() -> None:
    cluster, controller = await cluster_with(*(node(f"n{i}") for i in range(4)))
    await cluster.daemonsets.create(daemon_set(strategy={"rollingUpdate": {"maxUnavailable": 2}}))
    async with running(controller):
        await settle(cluster, lambda: stored(cluster).status.number_available == 4, "available")
        await with_template(cluster, "agent", "busybox:2")
        # Pods deleted but not replaced yet: the new ones are held back (not started).
        await settle(
            cluster,
            lambda: len(pods_by_node(cluster)) == 2,
            "two nodes emptied",
            ready=False,
        )
        await asyncio.sleep(0.05)
        cluster.deliver()
        await asyncio.sleep(0.05)
        assert sum(len(p) for p in pods_by_node(cluster).values()) <= 4


async def test_a_surge_update_starts_the_new_pod_before_removing_the_old() -> None:
    cluster, controller = await cluster_with(node("n1"), node("n2"))
    await cluster.daemonsets.create(
        daemon_set(strategy={"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}})
    )
    both_seen: list[bool] = []
    async with running(controller):
        await settle(cluster, lambda: stored(cluster).status.number_available == 2, "available")
        await with_template(cluster, "agent", "busybox:2")
        await settle(
            cluster,
            lambda: images(cluster) == {"n1": ["busybox:2"], "n2": ["busybox:2"]},
            "both updated",
            observe=lambda: both_seen.append(
                any(len(p) == 2 for p in pods_by_node(cluster).values())
            ),
        )
    assert any(both_seen)  # old and new side by side on a node at some point
    # Never both nodes surging at once (maxSurge 1).
    assert all(len(pods) <= 2 for pods in pods_by_node(cluster).values())


async def test_on_delete_replaces_only_deleted_pods() -> None:
    cluster, controller = await cluster_with(node("n1"), node("n2"))
    await cluster.daemonsets.create(daemon_set(strategy={"type": "OnDelete"}))
    async with running(controller):
        await settle(cluster, lambda: stored(cluster).status.number_available == 2, "available")
        await with_template(cluster, "agent", "busybox:2")
        await settle(cluster, lambda: stored(cluster).status.observed_generation == 2, "observed")
        assert images(cluster) == {"n1": ["busybox:1"], "n2": ["busybox:1"]}
        assert stored(cluster).status.updated_number_scheduled == 0
        victim = pods_by_node(cluster)["n1"][0]
        await cluster.pods.delete(victim.metadata.name, NS)
        await settle(
            cluster,
            lambda: images(cluster) == {"n1": ["busybox:2"], "n2": ["busybox:1"]},
            "n1 replaced",
        )


async def test_a_failed_pod_is_replaced() -> None:
    cluster, controller = await cluster_with(node("n1"))
    await cluster.daemonsets.create(daemon_set())
    async with running(controller):
        await settle(cluster, lambda: stored(cluster).status.number_available == 1, "available")
        first = live_pods(cluster)[0]
        await set_phase(cluster, first, "Failed")
        await settle(
            cluster,
            lambda: (
                [p.metadata.name for p in live_pods(cluster)] not in ([], [first.metadata.name])
            ),
            "a replacement",
        )
        assert first.metadata.name in cluster.pods.deleted
        reasons = [e.reason for e in cluster.events.store.values()]
        assert "FailedDaemonPod" in reasons


async def test_history_keeps_a_revision_per_template_and_renumbers_a_return() -> None:
    cluster, controller = await cluster_with(node("n1"))
    await cluster.daemonsets.create(daemon_set(revisionHistoryLimit=1))

    def revisions() -> dict[str, int]:
        return {r.metadata.name: r.revision for r in cluster.controllerrevisions.store.values()}

    async with running(controller):
        await settle(cluster, lambda: stored(cluster).status.number_available == 1, "available")
        first_hash = revision_hash(stored(cluster))
        first = f"agent-{first_hash}"
        assert revisions() == {first: 1}
        r1 = cluster.controllerrevisions.store[f"{NS}/{first}"]
        assert r1.data == template_patch(stored(cluster))
        assert r1.metadata.labels[REVISION_HASH_LABEL] == first_hash
        assert r1.metadata.annotations["deprecated.daemonset.template.generation"] == "1"
        await with_template(cluster, "agent", "busybox:2")
        second = f"agent-{revision_hash(stored(cluster))}"
        await settle(cluster, lambda: revisions() == {first: 1, second: 2}, "two revisions")
        await settle(cluster, lambda: images(cluster) == {"n1": ["busybox:2"]}, "updated")
        # Back to the first template: its revision becomes the newest; no new one is made.
        await with_template(cluster, "agent", "busybox:1")
        await settle(cluster, lambda: revisions() == {first: 3, second: 2}, "renumbered")
        await settle(cluster, lambda: images(cluster) == {"n1": ["busybox:1"]}, "rolled back")
        # A third template: with a limit of one old revision, the oldest goes once unused.
        await with_template(cluster, "agent", "busybox:3")
        third = f"agent-{revision_hash(stored(cluster))}"
        await settle(
            cluster,
            lambda: (
                revisions() == {first: 3, third: 4} and images(cluster) == {"n1": ["busybox:3"]}
            ),
            "pruned",
        )


async def test_a_name_taken_by_another_template_raises_the_collision_count() -> None:
    cluster, controller = await cluster_with(node("n1"))
    first_hash = revision_hash(await cluster.daemonsets.create(daemon_set()))
    squatter = apps_pb2.ControllerRevision(data='{"spec":{}}', revision=1)
    squatter.metadata.name, squatter.metadata.namespace = f"agent-{first_hash}", NS
    await cluster.controllerrevisions.create(squatter)
    async with running(controller):
        await settle(cluster, lambda: len(live_pods(cluster)) == 1, "a pod")
        status = stored(cluster).status
        assert status.HasField("collision_count") and status.collision_count == 1
        hash_ = live_pods(cluster)[0].metadata.labels[REVISION_HASH_LABEL]
        assert hash_ == revision_hash(stored(cluster)) != first_hash
        assert f"{NS}/agent-{hash_}" in cluster.controllerrevisions.store
