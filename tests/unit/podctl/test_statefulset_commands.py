"""podctl for stateful sets against an in-memory apiserver: `rollout status` with kubectl's
StatefulSetStatusViewer lines, `rollout history` of the ControllerRevisions the set controls (the
controller's own revision data), `rollout undo` putting an earlier template back, `scale sts`, and
`describe statefulset` in kubectl's layout."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from controller.statefulset.revisions import revision_data
from podctl.__main__ import run
from podctl.describe.workloads import describe_stateful_set
from podctl.errors import CommandError
from podctl.workloads import statefulset_rollout
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, resources
from tests.unit.podctl.fakes import FakeClient, FakeResourceClient

CAUSE = "kubernetes.io/change-cause"
NOW = datetime(2026, 11, 21, 15, 10, 0, tzinfo=UTC)


class StatefulCluster(FakeClient):
    def __init__(self) -> None:
        super().__init__()
        revisions = itertools.count(1000)
        self.statefulsets = FakeResourceClient(resources.STATEFUL_SET, revisions)
        self.controllerrevisions = FakeResourceClient(resources.CONTROLLER_REVISION, revisions)


def stateful_set(
    image: str = "busybox:2",
    *,
    replicas: int = 3,
    strategy: dict[str, Any] | None = None,
    generation: int = 1,
    **status: Any,
) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {
                "name": "web",
                "namespace": "default",
                "uid": "uid-web",
                "generation": generation,
                "creationTimestamp": "2026-11-21T15:00:00Z",
            },
            "spec": {
                "replicas": replicas,
                "serviceName": "nginx",
                "selector": {"matchLabels": {"app": "nginx"}},
                "updateStrategy": strategy
                if strategy is not None
                else {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                "template": {
                    "metadata": {"labels": {"app": "nginx"}},
                    "spec": {"containers": [{"name": "nginx", "image": image}]},
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "www", "labels": {"tier": "data"}},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "storageClassName": "standard",
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
            "status": {
                "observedGeneration": 1,
                "replicas": 3,
                "readyReplicas": 3,
                "currentReplicas": 3,
                "updatedReplicas": 3,
                "currentRevision": "web-a",
                "updateRevision": "web-a",
                **status,
            },
        },
        apps_pb2.StatefulSet,
    )


def revision(number: int, image: str, *, owner: str = "uid-web", cause: str = "") -> Any:
    r = apps_pb2.ControllerRevision(data=revision_data(stateful_set(image)), revision=number)
    r.metadata.name, r.metadata.namespace = f"web-h{number}", "default"
    r.metadata.labels.update({"app": "nginx", "controller.kubernetes.io/hash": f"h{number}"})
    if cause:
        r.metadata.annotations[CAUSE] = cause
    r.metadata.owner_references.add(
        api_version="apps/v1", kind="StatefulSet", name="web", uid=owner, controller=True
    )
    return r


@pytest.fixture
def cluster() -> StatefulCluster:
    return StatefulCluster()


async def stored(cluster: StatefulCluster, *objects: Any) -> None:
    for obj in objects:
        await cluster.for_resource(resources.by_message(obj)).create(obj)


async def podctl(cluster: StatefulCluster, *argv: str) -> int:
    """Runs podctl in a thread: it runs its own event loop."""
    return await asyncio.to_thread(run, list(argv), cluster.connector())


ROLLING = {"type": "RollingUpdate"}


@pytest.mark.parametrize(
    ("sts", "line", "done"),
    [
        (
            stateful_set(generation=2),
            "Waiting for statefulset spec update to be observed...",
            False,
        ),
        (
            stateful_set(observedGeneration=0),
            "Waiting for statefulset spec update to be observed...",
            False,
        ),
        (stateful_set(readyReplicas=1), "Waiting for 2 pods to be ready...", False),
        (
            stateful_set(
                strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
                updatedReplicas=1,
            ),
            "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...",
            False,
        ),
        (
            stateful_set(
                strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
                updatedReplicas=2,
                currentRevision="web-a",
                updateRevision="web-b",
            ),
            "partitioned roll out complete: 2 new pods have been updated...",
            True,
        ),
        (stateful_set(), "partitioned roll out complete: 3 new pods have been updated...", True),
        (
            stateful_set(strategy=ROLLING, updatedReplicas=1, updateRevision="web-b"),
            "waiting for statefulset rolling update to complete 1 pods at revision web-b...",
            False,
        ),
        (
            stateful_set(strategy=ROLLING),
            "statefulset rolling update complete 3 pods at revision web-a...",
            True,
        ),
    ],
)
def test_status_lines(sts: Any, line: str, done: bool) -> None:
    assert statefulset_rollout.rollout_status(sts) == (line, done)


def test_status_is_only_for_rolling_updates() -> None:
    with pytest.raises(CommandError, match="only available for RollingUpdate strategy type"):
        statefulset_rollout.rollout_status(stateful_set(strategy={"type": "OnDelete"}))


async def test_status_follows_the_rollout_until_done(
    cluster: StatefulCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(cluster, stateful_set(generation=2))
    cluster.statefulsets.watch_events = [
        ("MODIFIED", stateful_set(generation=2, observedGeneration=2, readyReplicas=2)),
        ("MODIFIED", stateful_set(generation=2, observedGeneration=2)),
    ]
    assert await podctl(cluster, "rollout", "status", "sts/web") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Waiting for statefulset spec update to be observed...",
        "Waiting for 1 pods to be ready...",
        "partitioned roll out complete: 3 new pods have been updated...",
    ]


async def test_history_lists_revisions_and_shows_one(
    cluster: StatefulCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(
        cluster,
        stateful_set(),
        revision(2, "busybox:2"),
        revision(1, "busybox:1", cause="first"),
        revision(9, "busybox:9", owner="uid-other"),
    )
    assert await podctl(cluster, "rollout", "history", "statefulset/web") == 0
    assert capsys.readouterr().out == (
        "statefulset.apps/web \nREVISION  CHANGE-CAUSE\n1         first\n2         <none>\n\n"
    )
    assert await podctl(cluster, "rollout", "history", "sts/web", "--revision=1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["statefulset.apps/web with revision #1", "Pod Template:"]
    assert any(line.split() == ["Image:", "busybox:1"] for line in out)


async def test_undo_puts_the_previous_revision_template_back(
    cluster: StatefulCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(cluster, stateful_set(), revision(1, "busybox:1"), revision(2, "busybox:2"))
    assert await podctl(cluster, "rollout", "undo", "sts/web") == 0
    sts = cluster.statefulsets.store[("default", "web")]
    assert sts.spec.template == stateful_set("busybox:1").spec.template
    # The rest of the set is untouched.
    assert sts.spec.volume_claim_templates == stateful_set().spec.volume_claim_templates
    assert await podctl(cluster, "rollout", "undo", "sts/web", "--to-revision=1") == 0
    assert capsys.readouterr().out.splitlines() == [
        "statefulset.apps/web rolled back",
        "statefulset.apps/web skipped rollback (current template already matches revision 1)",
    ]


async def test_scale_sets_the_replicas(
    cluster: StatefulCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(cluster, stateful_set())
    assert await podctl(cluster, "scale", "sts/web", "--replicas=5") == 0
    assert capsys.readouterr().out == "statefulset.apps/web scaled\n"
    assert cluster.statefulsets.store[("default", "web")].spec.replicas == 5


@pytest.fixture
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def pod(name: str, phase: str) -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.name = name
    p.metadata.owner_references.add(kind="StatefulSet", name="web", uid="uid-web", controller=True)
    p.status.phase = phase
    return p


@pytest.mark.usefixtures("utc_local_time")
def test_describe_has_kubectls_layout() -> None:
    text = describe_stateful_set(
        stateful_set(), [pod("web-0", "Running"), pod("web-1", "Pending")], None, NOW
    )
    lines = text.splitlines()
    assert lines[:10] == [
        "Name:               web",
        "Namespace:          default",
        "CreationTimestamp:  Sat, 21 Nov 2026 15:00:00 +0000",
        "Selector:           app=nginx",
        "Labels:             <none>",
        "Annotations:        <none>",
        "Replicas:           3 desired | 3 total",
        "Update Strategy:    RollingUpdate",
        "  Partition:        0",
        "Pods Status:        1 Running / 1 Waiting / 0 Succeeded / 0 Failed",
    ]
    claims = lines[lines.index("Volume Claims:") :]
    assert claims == [
        "Volume Claims:",
        "  Name:          www",
        "  StorageClass:  standard",
        "  Labels:        tier=data",
        "  Annotations:   <none>",
        "  Capacity:      1Gi",
        "  Access Modes:  [ReadWriteOnce]",
    ]
