"""The pod garbage collector against the in-memory apiserver: the pods of a node that is gone are
marked Failed (DisruptionTarget, DeletionByPodGC) and force-deleted once the quarantine is over;
unscheduled terminating pods, terminating pods of an out-of-service node and terminated pods past
the threshold are force-deleted; everything else is left alone."""

from __future__ import annotations

import asyncio

from controller.podgc.controller import PodGCController
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster, running, until

QUARANTINE = 0.2


def node(name: str, *, ready: bool = True, out_of_service: bool = False) -> core_pb2.Node:
    n = core_pb2.Node()
    n.metadata.name = name
    n.status.conditions.add(type="Ready", status="True" if ready else "False")
    if out_of_service:
        n.spec.taints.add(key="node.kubernetes.io/out-of-service", effect="NoExecute")
    return n


def pod(
    name: str,
    node_name: str = "",
    *,
    phase: str = "Running",
    deleting: bool = False,
    created: str = "2026-11-21T15:00:00Z",
    reason: str = "",
) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.namespace, p.metadata.name = "default", name
    p.metadata.creation_timestamp = created
    p.spec.node_name = node_name
    p.status.phase, p.status.reason = phase, reason
    if deleting:
        p.metadata.deletion_timestamp = timeutil.now()
    return p


def gc(cluster: FakeCluster, threshold: int = 12500) -> PodGCController:
    informers = SharedInformerFactory(cluster)  # type: ignore[arg-type]
    return PodGCController(
        cluster,  # type: ignore[arg-type]
        informers,
        terminated_pod_threshold=threshold,
        quarantine=QUARANTINE,
    )


async def test_the_pods_of_a_node_that_is_gone_fail_and_are_deleted_after_the_quarantine() -> None:
    cluster = FakeCluster()
    await cluster.nodes.create(node("here"))
    await cluster.pods.create(pod("on-gone", "gone"))
    await cluster.pods.create(pod("done-on-gone", "gone", phase="Succeeded"))
    await cluster.pods.create(pod("on-here", "here"))
    async with running(gc(cluster)):
        cluster.deliver()
        await asyncio.sleep(QUARANTINE / 2)
        cluster.deliver()
        assert cluster.pods.deleted == [], "not within the quarantine"
        await until(lambda: len(cluster.pods.deleted) == 2, "the orphans deleted", cluster)
    assert sorted(cluster.pods.deleted) == ["done-on-gone", "on-gone"]
    # The one that had not ended was marked Failed first, as no kubelet will; the other kept
    # its phase and got no status write.
    [failed] = cluster.pods.status_updates
    assert failed.metadata.name == "on-gone" and failed.status.phase == "Failed"
    [target] = [c for c in failed.status.conditions if c.type == "DisruptionTarget"]
    assert (target.status, target.reason, target.message) == (
        "True",
        "DeletionByPodGC",
        "PodGC: node no longer exists",
    )
    assert target.last_transition_time


async def test_a_node_that_appears_within_the_quarantine_keeps_its_pods() -> None:
    cluster = FakeCluster()
    await cluster.pods.create(pod("early", "late-node"))
    async with running(gc(cluster)):
        cluster.deliver()
        await cluster.nodes.create(node("late-node"))  # the apiserver has it; the cache not yet
        await asyncio.sleep(QUARANTINE * 2)
        cluster.deliver()
        await asyncio.sleep(QUARANTINE)
    assert cluster.pods.deleted == [] and cluster.pods.status_updates == []


async def test_a_node_deleted_later_orphans_its_pods() -> None:
    cluster = FakeCluster()
    await cluster.nodes.create(node("n1"))
    await cluster.pods.create(pod("web", "n1"))
    async with running(gc(cluster)):
        cluster.deliver()
        await asyncio.sleep(QUARANTINE * 1.5)
        assert cluster.pods.deleted == []
        await cluster.nodes.delete("n1")
        await until(lambda: cluster.pods.deleted == ["web"], "the orphan deleted", cluster)


async def test_a_terminating_pod_never_scheduled_is_force_deleted() -> None:
    cluster = FakeCluster()
    await cluster.pods.create(pod("pending", phase="Pending"))
    await cluster.pods.create(pod("leaving", phase="Pending", deleting=True))
    async with running(gc(cluster)):
        await until(lambda: cluster.pods.deleted == ["leaving"], "the pod deleted", cluster)
        await asyncio.sleep(0.05)
    assert cluster.pods.deleted == ["leaving"]
    assert cluster.pods.status_updates[0].status.phase == "Failed"


async def test_terminating_pods_of_an_out_of_service_node_are_force_deleted() -> None:
    cluster = FakeCluster()
    await cluster.nodes.create(node("down", ready=False, out_of_service=True))
    await cluster.nodes.create(node("up", out_of_service=True))  # Ready: its kubelet finishes
    await cluster.nodes.create(node("slow", ready=False))  # no taint: its pods wait
    for name, where, deleting in (
        ("stuck", "down", True),
        ("running", "down", False),
        ("leaving-up", "up", True),
        ("leaving-slow", "slow", True),
    ):
        await cluster.pods.create(pod(name, where, deleting=deleting))
    async with running(gc(cluster)):
        await until(lambda: cluster.pods.deleted == ["stuck"], "the stuck pod deleted", cluster)
        await asyncio.sleep(QUARANTINE)
        cluster.deliver()
    assert cluster.pods.deleted == ["stuck"]


async def test_terminated_pods_past_the_threshold_go_evicted_first_then_oldest() -> None:
    cluster = FakeCluster()
    await cluster.nodes.create(node("n1"))
    for name, phase, created, reason in (
        ("old-done", "Succeeded", "2026-11-21T10:00:00Z", ""),
        ("new-done", "Succeeded", "2026-11-21T12:00:00Z", ""),
        ("new-evicted", "Failed", "2026-11-21T13:00:00Z", "Evicted"),
        ("mid-failed", "Failed", "2026-11-21T11:00:00Z", ""),
        ("running", "Running", "2026-11-21T09:00:00Z", ""),
    ):
        await cluster.pods.create(pod(name, "n1", phase=phase, created=created, reason=reason))
    async with running(gc(cluster, threshold=2)):
        await until(lambda: len(cluster.pods.deleted) == 2, "two pods deleted", cluster)
        await asyncio.sleep(0.05)
        cluster.deliver()
    assert cluster.pods.deleted == ["new-evicted", "old-done"]
    assert cluster.pods.status_updates == []  # they had ended


async def test_a_zero_threshold_keeps_every_terminated_pod() -> None:
    cluster = FakeCluster()
    await cluster.nodes.create(node("n1"))
    for i in range(3):
        await cluster.pods.create(pod(f"done-{i}", "n1", phase="Succeeded"))
    async with running(gc(cluster, threshold=0)):
        cluster.deliver()
        await asyncio.sleep(0.1)
    assert cluster.pods.deleted == []
