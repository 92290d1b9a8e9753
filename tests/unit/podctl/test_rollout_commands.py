"""`podctl rollout status|undo|history` against an in-memory apiserver: kubectl's lines while a
deployment rolls out, a rollback that puts the previous revision's template (and annotations)
back into the deployment, the revision table, and kubectl's errors."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from podctl.__main__ import run
from podctl.errors import CommandError
from podctl.workloads import rollout
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import manifest, resources
from tests.unit.podctl.fakes import FakeClient, FakeResourceClient

HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


class RolloutCluster(FakeClient):
    def __init__(self) -> None:
        super().__init__()
        revisions = itertools.count(1000)
        self.deployments = FakeResourceClient(resources.DEPLOYMENT, revisions)
        self.replicasets = FakeResourceClient(resources.REPLICA_SET, revisions)
        self.jobs = FakeResourceClient(resources.JOB, revisions)


def deployment(
    image: str = "nginx:1.27",
    *,
    generation: int = 1,
    observed: int = 1,
    replicas: int = 3,
    updated: int = 3,
    total: int = 3,
    available: int = 3,
    annotations: dict[str, str] | None = None,
) -> Any:
    d = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "uid": "uid-web",
                "generation": generation,
                "annotations": annotations or {},
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": image}]},
                },
            },
            "status": {
                "observedGeneration": observed,
                "replicas": total,
                "updatedReplicas": updated,
                "availableReplicas": available,
            },
        },
        apps_pb2.Deployment,
    )
    return d


def replica_set(revision: int, image: str, *, owner: str = "uid-web", **annotations: str) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"web-h{revision}",
                "namespace": "default",
                "labels": {"app": "web", HASH: f"h{revision}"},
                "annotations": {REVISION: str(revision), **annotations},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "web",
                        "uid": owner,
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "selector": {"matchLabels": {"app": "web", HASH: f"h{revision}"}},
                "template": {
                    "metadata": {"labels": {"app": "web", HASH: f"h{revision}"}},
                    "spec": {"containers": [{"name": "web", "image": image}]},
                },
            },
        },
        apps_pb2.ReplicaSet,
    )


@pytest.fixture
def cluster() -> RolloutCluster:
    return RolloutCluster()


def podctl(cluster: RolloutCluster, *argv: str) -> int:
    return run(list(argv), connector=cluster.connector())


async def stored(cluster: RolloutCluster, *objects: Any) -> None:
    for obj in objects:
        await cluster.for_resource(resources.by_message(obj)).create(obj)


# ---------------------------------------------------------------- status


@pytest.mark.parametrize(
    "d,line,done",
    [
        (
            deployment(generation=2, observed=1),
            "Waiting for deployment spec update to be observed...",
            False,
        ),
        (
            deployment(updated=1, total=4, available=2),
            'Waiting for deployment "web" rollout to finish: '
            "1 out of 3 new replicas have been updated...",
            False,
        ),
        (
            deployment(updated=3, total=4, available=3),
            'Waiting for deployment "web" rollout to finish: '
            "1 old replicas are pending termination...",
            False,
        ),
        (
            deployment(updated=3, total=3, available=1),
            'Waiting for deployment "web" rollout to finish: '
            "1 of 3 updated replicas are available...",
            False,
        ),
        (deployment(), 'deployment "web" successfully rolled out', True),
    ],
)
def test_status_lines(d: Any, line: str, done: bool) -> None:
    assert rollout.rollout_status(d) == (line, done)


async def test_status_follows_the_rollout_until_done(
    cluster: RolloutCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(cluster, deployment("nginx:1.28", generation=2, observed=1))
    cluster.deployments.watch_events = [
        ("MODIFIED", deployment(generation=2, observed=2, updated=1, total=4, available=3)),
        ("MODIFIED", deployment(generation=2, observed=2, updated=1, total=4, available=3)),
        ("MODIFIED", deployment(generation=2, observed=2, updated=3, total=3, available=2)),
        ("MODIFIED", deployment(generation=2, observed=2)),
    ]
    assert await _run(cluster, "rollout", "status", "deployment/web") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Waiting for deployment spec update to be observed...",
        'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been '
        "updated...",
        'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
        'deployment "web" successfully rolled out',
    ]


async def _run(cluster: RolloutCluster, *argv: str) -> int:
    """Runs podctl in a thread: it runs its own event loop."""
    return await asyncio.to_thread(podctl, cluster, *argv)


async def test_status_without_watching_and_its_errors(
    cluster: RolloutCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    stuck = deployment(updated=1, total=4)
    stuck.status.conditions.add(
        type="Progressing", status="False", reason="ProgressDeadlineExceeded"
    )
    await stored(cluster, deployment(updated=1, total=4, annotations={REVISION: "2"}))
    assert await _run(cluster, "rollout", "status", "deploy", "web", "--watch=false") == 0
    assert await _run(cluster, "rollout", "status", "deploy/web", "--revision=3") == 1
    assert await _run(cluster, "rollout", "status", "job/pi") == 1
    out, err = capsys.readouterr()
    assert out == (
        'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have '
        "been updated...\n"
    )
    assert err.splitlines() == [
        "error: desired revision (3) is different from the running revision (2)",
        'error: no status viewer has been implemented for "Job.batch"',
    ]
    with pytest.raises(CommandError, match='deployment "web" exceeded its progress'):
        rollout.rollout_status(stuck)


# ---------------------------------------------------------------- undo


async def test_undo_restores_the_previous_template_and_its_annotations(
    cluster: RolloutCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(
        cluster,
        deployment(
            "nginx:1.28",
            annotations={REVISION: "2", "kubernetes.io/change-cause": "b", "team": "web"},
        ),
        replica_set(1, "nginx:1.27", **{"kubernetes.io/change-cause": "a"}),
        replica_set(2, "nginx:1.28", **{"kubernetes.io/change-cause": "b"}),
        replica_set(7, "nginx:0.1", owner="uid-other"),
    )
    assert await _run(cluster, "rollout", "undo", "deployment/web") == 0
    d = cluster.deployments.store[("default", "web")]
    assert d.spec.template.spec.containers[0].image == "nginx:1.27"
    assert dict(d.spec.template.metadata.labels) == {"app": "web"}  # no hash label
    assert dict(d.metadata.annotations) == {REVISION: "2", "kubernetes.io/change-cause": "a"}
    assert await _run(cluster, "rollout", "undo", "deployment/web", "--to-revision=1") == 0
    assert await _run(cluster, "rollout", "undo", "deployment/web", "--to-revision=7") == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "deployment.apps/web rolled back",
        "deployment.apps/web skipped rollback (current template already matches revision 1)",
    ]
    assert err == "error: unable to find specified revision 7 in history\n"


async def test_undo_refusals(cluster: RolloutCluster, capsys: pytest.CaptureFixture[str]) -> None:
    paused = deployment()
    paused.spec.paused = True
    await stored(cluster, paused, replica_set(1, "nginx:1.27"))
    assert await _run(cluster, "rollout", "undo", "deployment/web") == 1
    assert await _run(cluster, "rollout", "undo", "deployment/web", "--to-revision=1") == 1
    assert await _run(cluster, "rollout", "undo", "rs/web-h1") == 1
    assert capsys.readouterr().err.splitlines() == [
        'error: no rollout history found for deployment "web"',
        "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout "
        "resume deployment/web' and try again",
        'error: no rollbacker has been implemented for "ReplicaSet.apps"',
    ]


# ---------------------------------------------------------------- history


async def test_history_lists_revisions_and_shows_one(
    cluster: RolloutCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(
        cluster,
        deployment(),
        replica_set(3, "nginx:1.29"),
        replica_set(1, "nginx:1.27", **{"kubernetes.io/change-cause": "first try"}),
    )
    assert await _run(cluster, "rollout", "history", "deployment/web") == 0
    assert capsys.readouterr().out == (
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         first try\n3         <none>\n\n"
    )
    assert await _run(cluster, "rollout", "history", "deployment/web", "--revision=1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["deployment.apps/web with revision #1", "Pod Template:"]
    assert any(line.split() == ["Image:", "nginx:1.27"] for line in out)
    assert any("kubernetes.io/change-cause: first try" in line for line in out)
    assert await _run(cluster, "rollout", "history", "deployment/web", "--revision=2") == 1
    assert capsys.readouterr().err == "error: unable to find the specified revision\n"


def test_history_without_revisions() -> None:
    assert rollout.history_table([]) == "No rollout history found."
