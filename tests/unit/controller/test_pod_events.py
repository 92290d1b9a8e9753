"""Which pod events are work for which controller: each handler tests the cheapest thing first and
queues nothing when nothing can concern it (a scheduled running pod cannot let a claim go, a
namespace without budgets, owners or Services has nothing to sync), yet a pod that gains what a
controller reads (a claim, labels an owner selects, a readiness a Service publishes) is still
queued."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from controller.disruption.controller import DisruptionController
from controller.endpoint.controller import EndpointsController
from controller.ephemeral.controller import EphemeralVolumeController
from controller.framework.indexes import CLAIMS_INDEX
from controller.pvcprotection.controller import PVCProtectionController
from controller.replicaset.controller import ReplicaSetController
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.informer_factory import SharedInformerFactory
from podplane.client.workqueue import WorkQueue
from tests.unit.controller.fake_api import FakeCluster

NS = "default"


async def queued(queue: WorkQueue[str]) -> list[str]:
    """The keys the queue holds (taken off it)."""
    keys = []
    while len(queue):
        keys.append(await queue.get())
    for key in keys:
        queue.done(key)
    return sorted(keys)


def pod(
    name: str = "web",
    *,
    uid: str = "uid-1",
    revision: int = 1,
    node: str = "node-a",
    phase: str = "Running",
    labels: dict[str, str] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    ready: bool = True,
) -> core_pb2.Pod:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": NS,
                "uid": uid,
                "resourceVersion": str(revision),
                "labels": labels or {},
            },
            "spec": {
                "nodeName": node,
                "containers": [{"name": "c", "image": "busybox"}],
                "volumes": volumes or [],
            },
            "status": {
                "phase": phase,
                "podIP": "10.244.0.5",
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        },
        core_pb2.Pod,
    )


CLAIM_VOLUME = {"name": "v", "persistentVolumeClaim": {"claimName": "data"}}
SCRATCH_VOLUME = {
    "name": "scratch",
    "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}},
}


def object_of(kind: str, api_version: str, name: str, spec: dict[str, Any]) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}"},
            "spec": spec,
        }
    )


async def test_claim_protection_looks_only_at_pods_that_may_let_a_claim_go() -> None:
    cluster = FakeCluster()
    c = PVCProtectionController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]
    claim = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {
                "name": "data",
                "namespace": NS,
                "finalizers": ["kubernetes.io/pvc-protection"],
                "deletionTimestamp": timeutil.now(),
            },
        },
        core_pb2.PersistentVolumeClaim,
    )
    c.claims._store(claim)
    assert await queued(c.loop.queue) == ["default/data"]

    c.pods._store(pod(volumes=[CLAIM_VOLUME]))
    c.pods._store(pod(volumes=[CLAIM_VOLUME], revision=2, ready=False))
    c.pods._store(pod("bare"))
    assert await queued(c.loop.queue) == []  # scheduled and running: it keeps using the claim

    c.pods._store(pod(volumes=[CLAIM_VOLUME], revision=3, phase="Succeeded"))
    assert await queued(c.loop.queue) == ["default/data"]
    c.pods._remove("default/web")
    assert await queued(c.loop.queue) == ["default/data"]
    c.pods._store(pod("pending", node="", volumes=[CLAIM_VOLUME]))
    assert await queued(c.loop.queue) == ["default/data"]  # enqueuePVCs: not scheduled

    # A running pod replaced by a namesake between two events: the one gone let its claim go.
    c.pods._store(pod("twin", volumes=[CLAIM_VOLUME]))
    c.pods._store(pod("twin", uid="uid-2", revision=2))
    assert await queued(c.loop.queue) == ["default/data"]


async def test_a_pod_that_gains_an_ephemeral_volume_gets_its_claim() -> None:
    cluster = FakeCluster()
    c = EphemeralVolumeController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]
    c.pods._store(pod())
    c.pods._store(pod(revision=2, ready=False))
    assert await queued(c.loop.queue) == []

    c.pods._store(pod(uid="uid-2", revision=3, volumes=[SCRATCH_VOLUME]))  # a namesake
    assert await queued(c.loop.queue) == ["default/web"]
    assert [p.metadata.uid for p in c.pods.by_index(CLAIMS_INDEX, "default/web-scratch")] == [
        "uid-2"
    ]
    c._claim_deleted(
        manifest.from_dict(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "web-scratch", "namespace": NS},
            },
            core_pb2.PersistentVolumeClaim,
        )
    )
    assert await queued(c.loop.queue) == ["default/web"]  # made again


async def test_a_budget_is_synced_for_the_pods_it_selects_before_or_after() -> None:
    cluster = FakeCluster()
    c = DisruptionController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]
    c.pods._store(pod(labels={"app": "web"}))
    c.pods._store(pod(labels={"app": "web"}, revision=2, ready=False))
    assert await queued(c.loop.queue) == []  # no budget in the namespace

    c.pdbs._store(
        object_of(
            "PodDisruptionBudget",
            "policy/v1",
            "web",
            {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
        )
    )
    assert await queued(c.loop.queue) == ["default/web"]
    c.pods._store(pod(labels={"app": "other"}, revision=3))
    assert await queued(c.loop.queue) == ["default/web"]  # it selected the pod before
    c.pods._store(pod(labels={"app": "other"}, revision=4, ready=False))
    assert await queued(c.loop.queue) == []


async def test_a_disruption_target_condition_is_watched_until_stale() -> None:
    cluster = FakeCluster()
    c = DisruptionController(
        cluster,  # type: ignore[arg-type]
        SharedInformerFactory(cluster),  # type: ignore[arg-type]
        stale_pod_disruption_timeout=timedelta(0),
    )
    c.pods._store(pod())
    assert await queued(c.stale_loop.queue) == []
    marked = pod(revision=2)
    marked.status.conditions.add(
        type="DisruptionTarget", status="True", last_transition_time=timeutil.now()
    )
    c.pods._store(marked)
    assert await queued(c.stale_loop.queue) == ["default/web"]


async def test_an_orphan_whose_labels_come_to_match_an_owner_is_offered_to_it() -> None:
    cluster = FakeCluster()
    c = ReplicaSetController(cluster, SharedInformerFactory(cluster))  # type: ignore[call-overload, arg-type]
    c.pods._store(pod())
    c.pods._store(pod(labels={"app": "web"}, revision=2))
    assert await queued(c.loop.queue) == []  # no ReplicaSet in the namespace

    c.owners._store(
        object_of(
            "ReplicaSet",
            "apps/v1",
            "web",
            {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}},
        )
    )
    assert await queued(c.loop.queue) == ["default/web"]
    c.pods._store(pod(labels={"app": "web"}, revision=3, ready=False))
    assert await queued(c.loop.queue) == []  # its labels did not change
    c.pods._store(pod(labels={"app": "web", "tier": "front"}, revision=4))
    assert await queued(c.loop.queue) == ["default/web"]


async def test_a_service_is_synced_when_a_pod_it_selects_changes_its_endpoint() -> None:
    cluster = FakeCluster()
    c = EndpointsController(cluster, SharedInformerFactory(cluster))  # type: ignore[arg-type]
    c.pods._store(pod(labels={"app": "web"}))
    c.pods._store(pod(labels={"app": "web"}, revision=2, ready=False))
    assert await queued(c.loop.queue) == []  # no Service in the namespace

    c.services._store(object_of("Service", "v1", "web", {"selector": {"app": "web"}}))
    assert await queued(c.loop.queue) == ["default/web"]
    c.pods._store(pod(labels={"app": "web"}, revision=3, ready=True))
    assert await queued(c.loop.queue) == ["default/web"]
    c.pods._store(pod(labels={"app": "web"}, revision=4, ready=True))
    assert await queued(c.loop.queue) == []  # nothing its endpoint shows changed
