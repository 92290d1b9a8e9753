"""The StatefulSet controller with the garbage collector, in this process, against the real
apiserver over a real etcd, driven by real kubectl through the REST door. No kubelet: a task plays
one, marking each new pod Running and Ready a moment after it appears. Pods come one at a time in
ordinal order, each with its claim; `kubectl scale` removes them from the highest ordinal and
brings them back on the claims they had; a partitioned rolling update leaves the pods below the
partition alone, and `kubectl rollout status|history|undo|restart` work on the set; deleting the
set deletes its pods and, as its retention policy says, keeps or deletes its claims."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
import yaml

from controller.garbagecollector.controller import GarbageCollector
from controller.pvcprotection.controller import PVCProtectionController
from controller.statefulset.controller import StatefulSetController
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from podplane.client.clientset import Client, is_not_found
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.rest_cluster import RestCluster, rest_cluster
from tests.support import EtcdProcess, eventually


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("statefulsets")) as c:
        yield c


def manifest(replicas: int = 3, image: str = "busybox:1.37", **spec: Any) -> str:
    """The Kubernetes tutorial's set: web, governed by the headless Service nginx, a claim www."""
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "web"},
            "spec": {
                "serviceName": "nginx",
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "nginx"}},
                "template": {
                    "metadata": {"labels": {"app": "nginx"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "nginx",
                                "image": image,
                                "volumeMounts": [{"name": "www", "mountPath": "/data"}],
                            }
                        ]
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "www"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
                **spec,
            },
        }
    )


@dataclass
class PodLog:
    """What a watch of the namespace's pods saw: creations and deletions in order, and, at each
    creation, whether every pod of a lower ordinal was Running and Ready."""

    pods: dict[str, core_pb2.Pod] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)


def ordinal(name: str) -> int:
    return int(name.rpartition("-")[2])


def is_ready(pod: core_pb2.Pod) -> bool:
    return pod.status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in pod.status.conditions
    )


async def watch_pods(client: Client, ns: str, log: PodLog) -> None:
    async for event in client.pods.watch(ns):
        pod = event.object
        name = pod.metadata.name
        if event.type == "ADDED":
            below = [p for n, p in log.pods.items() if ordinal(n) < ordinal(name)]
            if len(below) < ordinal(name) or not all(is_ready(p) for p in below):
                log.out_of_order.append(name)
            log.added.append(name)
            log.pods[name] = pod
        elif event.type == "DELETED":
            log.deleted.append(name)
            log.pods.pop(name, None)
        else:
            log.pods[name] = pod


async def fake_kubelet(client: Client, ns: str, delay: float = 0.3) -> None:
    """Marks each new pod Running and Ready after `delay`."""

    async def start(pod: core_pb2.Pod) -> None:
        await asyncio.sleep(delay)
        started = core_pb2.Pod()
        started.CopyFrom(pod)
        started.metadata.resource_version = ""
        started.status.phase = "Running"
        started.status.conditions.add(
            type="Ready", status="True", last_transition_time=timeutil.now()
        )
        try:
            await client.pods.update_status(started)
        except Exception as e:
            if not is_not_found(e):
                raise

    starting: set[asyncio.Task[None]] = set()
    try:
        async for event in client.pods.watch(ns):
            if event.type == "ADDED":
                task = asyncio.create_task(start(event.object))
                starting.add(task)
                task.add_done_callback(starting.discard)
    finally:
        for task in starting:
            task.cancel()


@contextlib.asynccontextmanager
async def controllers(client: Client, ns: str) -> AsyncIterator[PodLog]:
    informers = SharedInformerFactory(client)  # one per process, as the controller-manager's
    log = PodLog()
    tasks = [
        asyncio.ensure_future(t)
        for t in (
            StatefulSetController(client, informers).run(),
            GarbageCollector(client, informers).run(),
            PVCProtectionController(client, informers).run(),
            fake_kubelet(client, ns),
            watch_pods(client, ns, log),
        )
    ]
    try:
        yield log
    finally:
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception() is not None:
                raise AssertionError(f"a background task crashed: {t.exception()!r}")
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def namespace(cluster: RestCluster) -> str:
    name = f"sts-{uuid.uuid4().hex[:6]}"
    await cluster.kubectl_ok("create", "namespace", name)
    return name


async def ready(cluster: RestCluster, ns: str, replicas: int, timeout: float = 40.0) -> Any:
    """The set once its status shows `replicas` ready pods, all of the update revision."""

    async def check() -> Any:
        sts = await cluster.grpc.statefulsets.get("web", ns)
        s = sts.status
        done = (
            s.observed_generation >= sts.metadata.generation
            and s.ready_replicas == s.replicas == s.updated_replicas == replicas
        )
        return sts if done else None

    return await eventually(check, timeout=timeout, what=f"{replicas} ready pods of web")


async def claim_uids(cluster: RestCluster, ns: str) -> dict[str, str]:
    claims = (await cluster.grpc.persistentvolumeclaims.list(ns)).items
    return {c.metadata.name: c.metadata.uid for c in claims}


def columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


async def test_pods_come_in_order_each_with_its_claim(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    async with controllers(cluster.grpc, ns) as log:
        out = await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=manifest(3))
        assert out == "statefulset.apps/web created\n"
        sts = await ready(cluster, ns, 3)
    assert log.added == ["web-0", "web-1", "web-2"]
    assert log.out_of_order == []
    assert sorted(await claim_uids(cluster, ns)) == ["www-web-0", "www-web-1", "www-web-2"]
    pods = {p.metadata.name: p for p in (await cluster.grpc.pods.list(ns)).items}
    for i in range(3):
        pod = pods[f"web-{i}"]
        assert (pod.spec.hostname, pod.spec.subdomain) == (f"web-{i}", "nginx")
        assert pod.metadata.labels["statefulset.kubernetes.io/pod-name"] == f"web-{i}"
        assert pod.metadata.labels["apps.kubernetes.io/pod-index"] == str(i)
        assert pod.metadata.labels["controller-revision-hash"] == sts.status.update_revision
        assert pod.spec.volumes[0].persistent_volume_claim.claim_name == f"www-web-{i}"
    table = (await cluster.kubectl_ok("get", "sts", "-n", ns)).splitlines()
    assert columns(table[0]) == ["NAME", "READY", "AGE"]
    assert columns(table[1])[:2] == ["web", "3/3"]
    revisions = json.loads(
        await cluster.kubectl_ok("get", "controllerrevisions", "-n", ns, "-o", "json")
    )["items"]
    assert [r["metadata"]["name"] for r in revisions] == [sts.status.update_revision]
    assert revisions[0]["revision"] == 1
    shown = json.loads(await cluster.kubectl_ok("get", "sts", "web", "-n", ns, "-o", "json"))
    assert shown["spec"]["podManagementPolicy"] == "OrderedReady"
    assert shown["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 0},
    }
    assert shown["status"]["availableReplicas"] == 3
    assert shown["status"]["collisionCount"] == 0


async def test_kubectl_scale_removes_the_highest_ordinals_and_keeps_their_claims(
    cluster: RestCluster,
) -> None:
    ns = await namespace(cluster)
    async with controllers(cluster.grpc, ns) as log:
        await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=manifest(4))
        await ready(cluster, ns, 4)
        claims = await claim_uids(cluster, ns)
        out = await cluster.kubectl_ok("scale", "-n", ns, "sts/web", "--replicas=1")
        assert out == "statefulset.apps/web scaled\n"
        await ready(cluster, ns, 1)
        assert log.deleted == ["web-3", "web-2", "web-1"]
        # Retain: the claims stay, and the pods come back on them.
        assert await claim_uids(cluster, ns) == claims
        await cluster.kubectl_ok("scale", "-n", ns, "statefulset", "web", "--replicas=3")
        await ready(cluster, ns, 3)
    assert log.added == ["web-0", "web-1", "web-2", "web-3", "web-1", "web-2"]
    assert log.out_of_order == []
    assert await claim_uids(cluster, ns) == claims
    scale = json.loads(
        await cluster.kubectl_ok(
            "get", "--raw", f"/apis/apps/v1/namespaces/{ns}/statefulsets/web/scale"
        )
    )
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 3}
    assert scale["status"] == {"replicas": 3, "selector": "app=nginx"}


async def test_a_partitioned_rolling_update_and_the_rollout_verbs(cluster: RestCluster) -> None:
    ns = await namespace(cluster)
    async with controllers(cluster.grpc, ns) as log:
        await cluster.kubectl_ok("apply", "-n", ns, "-f", "-", stdin=manifest(3))
        first = (await ready(cluster, ns, 3)).status.update_revision
        status = await cluster.kubectl_ok("rollout", "status", "-n", ns, "sts/web")
        assert status == "partitioned roll out complete: 3 new pods have been updated...\n"

        await cluster.kubectl_ok(
            "patch", "-n", ns, "sts", "web", "-p",
            '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}',
        )  # fmt: skip
        await cluster.kubectl_ok("set", "image", "-n", ns, "sts/web", "nginx=busybox:1.38")
        out = await cluster.kubectl_ok("rollout", "status", "-n", ns, "sts/web", "--timeout=40s")
        assert out.splitlines()[-1] == (
            "partitioned roll out complete: 1 new pods have been updated..."
        )
        images = await pod_images(cluster, ns)
        assert images == {"web-0": "busybox:1.37", "web-1": "busybox:1.37", "web-2": "busybox:1.38"}
        assert log.deleted == ["web-2"]
        sts = await cluster.grpc.statefulsets.get("web", ns)
        assert sts.status.current_revision == first != sts.status.update_revision

        history = (await cluster.kubectl_ok("rollout", "history", "-n", ns, "sts/web")).splitlines()
        assert history[0] == "statefulset.apps/web "
        assert [columns(line) for line in history[1:4]] == [
            ["REVISION", "CHANGE-CAUSE"],
            ["1", "<none>"],
            ["2", "<none>"],
        ]
        shown = await cluster.kubectl_ok("rollout", "history", "-n", ns, "sts/web", "--revision=2")
        assert "busybox:1.38" in shown

        # Back to revision 1: web-2 is replaced again, the old revision renumbered.
        out = await cluster.kubectl_ok("rollout", "undo", "-n", ns, "sts/web")
        assert out == "statefulset.apps/web rolled back\n"
        await eventually(
            lambda: _images_are(cluster, ns, ["busybox:1.37"] * 3), timeout=40, what="undone"
        )
        revisions = json.loads(
            await cluster.kubectl_ok("get", "controllerrevisions", "-n", ns, "-o", "json")
        )["items"]
        numbers = {r["metadata"]["name"]: r["revision"] for r in revisions}
        assert numbers[first] == 3

        # restart: a new template (an annotation) rolled out over every pod above the partition.
        await cluster.kubectl_ok(
            "patch", "-n", ns, "sts", "web", "-p",
            '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}',
        )  # fmt: skip
        before = {p.metadata.name: p.metadata.uid for p in (await cluster.grpc.pods.list(ns)).items}
        out = await cluster.kubectl_ok("rollout", "restart", "-n", ns, "sts/web")
        assert out == "statefulset.apps/web restarted\n"
        out = await cluster.kubectl_ok("rollout", "status", "-n", ns, "sts/web", "--timeout=40s")
        assert out.splitlines()[-1] == (
            "partitioned roll out complete: 3 new pods have been updated..."
        )
        after = {p.metadata.name: p.metadata.uid for p in (await cluster.grpc.pods.list(ns)).items}
        assert sorted(after) == ["web-0", "web-1", "web-2"]
        assert all(after[n] != before[n] for n in after)
    # Every replacement went from the highest ordinal down.
    assert log.deleted[-3:] == ["web-2", "web-1", "web-0"]


async def pod_images(cluster: RestCluster, ns: str) -> dict[str, str]:
    pods = (await cluster.grpc.pods.list(ns)).items
    return {p.metadata.name: p.spec.containers[0].image for p in pods}


async def _images_are(cluster: RestCluster, ns: str, wanted: list[str]) -> bool:
    pods = (await cluster.grpc.pods.list(ns)).items
    return sorted(p.spec.containers[0].image for p in pods if is_ready(p)) == wanted


@pytest.mark.parametrize(("when_deleted", "claims_left"), [("Retain", 2), ("Delete", 0)])
async def test_deleting_the_set_deletes_its_pods_and_its_claims_as_the_policy_says(
    cluster: RestCluster, when_deleted: str, claims_left: int
) -> None:
    ns = await namespace(cluster)
    policy = {"whenDeleted": when_deleted, "whenScaled": "Retain"}
    async with controllers(cluster.grpc, ns):
        await cluster.kubectl_ok(
            "apply", "-n", ns, "-f", "-",
            stdin=manifest(2, persistentVolumeClaimRetentionPolicy=policy),
        )  # fmt: skip
        await ready(cluster, ns, 2)
        await cluster.kubectl_ok("delete", "-n", ns, "sts", "web")

        async def gone() -> bool:
            pods = (await cluster.grpc.pods.list(ns)).items
            claims = (await cluster.grpc.persistentvolumeclaims.list(ns)).items
            return not pods and len(claims) == claims_left

        await eventually(gone, timeout=30, what="the pods (and claims) deleted")
