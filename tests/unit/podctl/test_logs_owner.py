"""`podctl logs job/NAME` (and deploy/, rs/, rc/): the log of one of the owner's pods, found
through its selector and picked as kubectl picks it (scheduled, running or finished, ready the
longest, oldest), with kubectl's note when there were several and its errors."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from podctl.__main__ import run
from podctl.pods.selection import logging_order
from podplane.api.apps.v1 import apps_pb2
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, resources, selectors
from tests.unit.podctl.fakes import FakeClient, FakeResourceClient


class SelectingResourceClient(FakeResourceClient):
    """Honours label selectors in lists, as the apiserver does."""

    async def list_all(
        self,
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        page_size: int = 500,
    ) -> tuple[list[Any], str]:
        items, version = await super().list_all(namespace)
        wanted = selectors.parse_labels(label_selector)
        return [o for o in items if wanted.matches(o.metadata.labels)], version


class OwnersCluster(FakeClient):
    def __init__(self) -> None:
        super().__init__()
        revisions = itertools.count(1000)
        self.pods = SelectingResourceClient(resources.POD, revisions)
        self.jobs = FakeResourceClient(resources.JOB, revisions)
        self.deployments = FakeResourceClient(resources.DEPLOYMENT, revisions)
        self.replicasets = FakeResourceClient(resources.REPLICA_SET, revisions)
        self.replicationcontrollers = FakeResourceClient(
            resources.REPLICATION_CONTROLLER, revisions
        )


def pod(
    name: str,
    labels: dict[str, str],
    *,
    phase: str = "Running",
    node: str = "node-1",
    ready_since: str = "",
    created: str = "2030-01-01T00:00:00Z",
    restarts: int = 0,
) -> Any:
    p = core_pb2.Pod()
    p.metadata.name, p.metadata.namespace = name, "default"
    p.metadata.labels.update(labels)
    p.metadata.creation_timestamp = created
    p.spec.node_name = node
    p.spec.containers.add(name="main", image="busybox")
    p.status.phase = phase
    if ready_since:
        p.status.conditions.add(type="Ready", status="True", last_transition_time=ready_since)
    p.status.container_statuses.add(name="main", restart_count=restarts)
    return p


def test_the_pod_kubectl_would_pick() -> None:
    def first(*pods: Any) -> str:
        return str(sorted(pods, key=logging_order)[0].metadata.name)

    assert first(pod("unscheduled", {}, node=""), pod("scheduled", {}, phase="Pending")) == (
        "scheduled"
    )
    assert first(pod("pending", {}, phase="Pending"), pod("done", {}, phase="Succeeded")) == "done"
    assert first(pod("unknown", {}, phase="Unknown"), pod("pending", {}, phase="Pending")) == (
        "unknown"
    )
    assert (
        first(
            pod("done", {}, phase="Succeeded"), pod("ready", {}, ready_since="2030-01-01T00:01:00Z")
        )
        == "ready"
    )
    assert (
        first(
            pod("recent", {}, ready_since="2030-01-01T00:05:00Z"),
            pod("longer", {}, ready_since="2030-01-01T00:01:00Z"),
        )
        == "longer"
    )
    assert first(pod("calm", {}), pod("crashy", {}, restarts=3)) == "crashy"
    assert first(pod("newer", {}, created="2030-01-02T00:00:00Z"), pod("older", {})) == "older"


def test_sidecar_restarts_break_a_tie_of_app_restarts() -> None:
    def with_sidecar(name: str, restarts: int) -> Any:
        p = pod(name, {}, restarts=1)
        p.spec.init_containers.add(name="proxy", image="busybox", restart_policy="Always")
        p.status.init_container_statuses.add(name="proxy", restart_count=restarts)
        return p

    calm, flaky = with_sidecar("calm", 0), with_sidecar("flaky", 4)
    assert sorted([calm, flaky], key=logging_order)[0].metadata.name == "flaky"
    crashy = pod("crashy", {}, restarts=2)
    assert sorted([flaky, crashy], key=logging_order)[0].metadata.name == "crashy"


JOB_LABELS = {"batch.kubernetes.io/controller-uid": "uid-nightly", "job-name": "nightly"}


async def cluster_with_job() -> OwnersCluster:
    cluster = OwnersCluster()
    await cluster.jobs.create(
        manifest.from_dict(
            {
                "metadata": {"name": "nightly", "namespace": "default"},
                "spec": {
                    "selector": {
                        "matchLabels": {"batch.kubernetes.io/controller-uid": "uid-nightly"}
                    },
                    "template": {"metadata": {"labels": JOB_LABELS}},
                },
            },
            batch_pb2.Job,
        )
    )
    for p in (
        pod("nightly-a", JOB_LABELS, phase="Failed"),
        pod("nightly-b", JOB_LABELS, phase="Succeeded", created="2030-01-01T00:02:00Z"),
        pod("nightly-c", JOB_LABELS, phase="Pending", node=""),
        pod("other", {"job-name": "nightly"}),
    ):
        await cluster.pods.create(p)
    cluster.logs[("default", "nightly-a", "main")] = b"failed run\n"
    cluster.logs[("default", "nightly-b", "main")] = b"pi = 3.14159\n"
    return cluster


def podctl(cluster: OwnersCluster, *argv: str) -> int:
    return run(list(argv), connector=cluster.connector())


async def test_logs_of_a_job_read_one_of_its_pods(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    cluster = await cluster_with_job()
    assert await asyncio.to_thread(podctl, cluster, "logs", "job/nightly") == 0
    out, err = capsysbinary.readouterr()
    # Failed and Succeeded rank alike; the older of the two wins.
    assert (out, err) == (b"failed run\n", b"Found 3 pods, using pod/nightly-a\n")
    del cluster.pods.store[("default", "nightly-a")]
    assert await asyncio.to_thread(podctl, cluster, "logs", "jobs.batch/nightly") == 0
    assert capsysbinary.readouterr() == (b"pi = 3.14159\n", b"Found 2 pods, using pod/nightly-b\n")


async def test_logs_of_deployments_replica_sets_and_replication_controllers(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    cluster = OwnersCluster()
    selector = {"selector": {"matchLabels": {"app": "web"}}}
    await cluster.deployments.create(
        manifest.from_dict(
            {"metadata": {"name": "web", "namespace": "default"}, "spec": selector},
            apps_pb2.Deployment,
        )
    )
    await cluster.replicasets.create(
        manifest.from_dict(
            {"metadata": {"name": "web-5d8f", "namespace": "default"}, "spec": selector},
            apps_pb2.ReplicaSet,
        )
    )
    await cluster.replicationcontrollers.create(
        manifest.from_dict(
            {
                "metadata": {"name": "legacy", "namespace": "default"},
                "spec": {"selector": {"app": "web"}},
            },
            core_pb2.ReplicationController,
        )
    )
    await cluster.pods.create(pod("web-5d8f-x", {"app": "web"}, ready_since="2030-01-01T00:00:09Z"))
    cluster.logs[("default", "web-5d8f-x", "main")] = b"GET /\n"
    for target in ("deploy/web", "deployment/web", "rs/web-5d8f", "rc/legacy"):
        assert await asyncio.to_thread(podctl, cluster, "logs", target) == 0
        assert capsysbinary.readouterr() == (b"GET /\n", b"")


async def test_owner_errors(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    cluster = OwnersCluster()
    await cluster.jobs.create(
        manifest.from_dict(
            {
                "metadata": {"name": "idle", "namespace": "default"},
                "spec": {"selector": {"matchLabels": {"job-name": "idle"}}},
            },
            batch_pb2.Job,
        )
    )
    assert (
        await asyncio.to_thread(podctl, cluster, "logs", "job/idle", "--pod-running-timeout=0s")
        == 1
    )
    assert await asyncio.to_thread(podctl, cluster, "logs", "node/node-1") == 1
    assert await asyncio.to_thread(podctl, cluster, "logs", "job/missing") == 1
    assert await asyncio.to_thread(podctl, cluster, "logs", "job/") == 1
    assert capsysbinary.readouterr().err.decode().splitlines() == [
        "error: timed out waiting for the condition",
        "error: cannot get the logs from Node: selector for Node not implemented",
        'Error from server (NotFound): jobs "missing" not found',
        "error: arguments in resource/name form must have a name: 'job/'",
    ]
