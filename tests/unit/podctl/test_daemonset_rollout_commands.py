"""`podctl rollout status|undo|history` for daemon sets against an in-memory apiserver: kubectl's
DaemonSetStatusViewer lines, the revision table of the ControllerRevisions the daemon set
controls, a revision's pod template (its patch applied), and a rollback that puts it back."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from controller.daemon.revisions import template_patch
from podctl.__main__ import run
from podctl.errors import CommandError
from podctl.workloads import daemonset_rollout
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import manifest, resources
from tests.unit.podctl.fakes import FakeClient, FakeResourceClient

CAUSE = "kubernetes.io/change-cause"


class DaemonCluster(FakeClient):
    def __init__(self) -> None:
        super().__init__()
        revisions = itertools.count(1000)
        self.daemonsets = FakeResourceClient(resources.DAEMON_SET, revisions)
        self.controllerrevisions = FakeResourceClient(resources.CONTROLLER_REVISION, revisions)


def daemon_set(
    image: str = "busybox:2",
    *,
    strategy: str = "RollingUpdate",
    generation: int = 1,
    observed: int = 1,
    desired: int = 3,
    updated: int = 3,
    available: int = 3,
) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {
                "name": "agent",
                "namespace": "default",
                "uid": "uid-agent",
                "generation": generation,
            },
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "updateStrategy": {"type": strategy},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "main", "image": image}]},
                },
            },
            "status": {
                "observedGeneration": observed,
                "desiredNumberScheduled": desired,
                "updatedNumberScheduled": updated,
                "numberAvailable": available,
            },
        },
        apps_pb2.DaemonSet,
    )


def revision(number: int, image: str, *, owner: str = "uid-agent", cause: str = "") -> Any:
    r = apps_pb2.ControllerRevision(data=template_patch(daemon_set(image)), revision=number)
    r.metadata.name, r.metadata.namespace = f"agent-h{number}", "default"
    r.metadata.labels.update({"app": "agent", "controller-revision-hash": f"h{number}"})
    if cause:
        r.metadata.annotations[CAUSE] = cause
    r.metadata.owner_references.add(
        api_version="apps/v1", kind="DaemonSet", name="agent", uid=owner, controller=True
    )
    return r


@pytest.fixture
def cluster() -> DaemonCluster:
    return DaemonCluster()


async def stored(cluster: DaemonCluster, *objects: Any) -> None:
    for obj in objects:
        await cluster.for_resource(resources.by_message(obj)).create(obj)


async def podctl(cluster: DaemonCluster, *argv: str) -> int:
    """Runs podctl in a thread: it runs its own event loop."""
    return await asyncio.to_thread(run, list(argv), cluster.connector())


@pytest.mark.parametrize(
    ("ds", "line", "done"),
    [
        (
            daemon_set(generation=2, observed=1),
            "Waiting for daemon set spec update to be observed...",
            False,
        ),
        (
            daemon_set(updated=1),
            'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been '
            "updated...",
            False,
        ),
        (
            daemon_set(available=2),
            'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are '
            "available...",
            False,
        ),
        (daemon_set(), 'daemon set "agent" successfully rolled out', True),
    ],
)
def test_status_lines(ds: Any, line: str, done: bool) -> None:
    assert daemonset_rollout.rollout_status(ds) == (line, done)


def test_status_is_only_for_rolling_updates() -> None:
    with pytest.raises(CommandError, match="only available for RollingUpdate strategy type"):
        daemonset_rollout.rollout_status(daemon_set(strategy="OnDelete"))


async def test_status_follows_the_rollout_until_done(
    cluster: DaemonCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(cluster, daemon_set(generation=2, observed=1))
    cluster.daemonsets.watch_events = [
        ("MODIFIED", daemon_set(generation=2, observed=2, updated=1, available=2)),
        ("MODIFIED", daemon_set(generation=2, observed=2, updated=3, available=2)),
        ("MODIFIED", daemon_set(generation=2, observed=2)),
    ]
    assert await podctl(cluster, "rollout", "status", "ds/agent") == 0
    assert capsys.readouterr().out.splitlines() == [
        "Waiting for daemon set spec update to be observed...",
        'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been '
        "updated...",
        'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...',
        'daemon set "agent" successfully rolled out',
    ]


async def test_history_lists_revisions_and_shows_one(
    cluster: DaemonCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(
        cluster,
        daemon_set(),
        revision(2, "busybox:2"),
        revision(1, "busybox:1", cause="first"),
        revision(9, "busybox:9", owner="uid-other"),
    )
    assert await podctl(cluster, "rollout", "history", "daemonset/agent") == 0
    assert capsys.readouterr().out == (
        "daemonset.apps/agent \nREVISION  CHANGE-CAUSE\n1         first\n2         <none>\n\n"
    )
    assert await podctl(cluster, "rollout", "history", "ds/agent", "--revision=1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["daemonset.apps/agent with revision #1", "Pod Template:"]
    assert any(line.split() == ["Image:", "busybox:1"] for line in out)
    assert await podctl(cluster, "rollout", "history", "ds/agent", "--revision=9") == 1
    assert capsys.readouterr().err == "error: unable to find the specified revision\n"


async def test_undo_puts_the_previous_revision_template_back(
    cluster: DaemonCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(cluster, daemon_set(), revision(1, "busybox:1"), revision(2, "busybox:2"))
    assert await podctl(cluster, "rollout", "undo", "daemonset/agent") == 0
    ds = cluster.daemonsets.store[("default", "agent")]
    assert ds.spec.template.spec.containers[0].image == "busybox:1"
    assert ds.spec.template == daemon_set("busybox:1").spec.template
    assert await podctl(cluster, "rollout", "undo", "ds/agent", "--to-revision=1") == 0
    assert await podctl(cluster, "rollout", "undo", "ds/agent", "--to-revision=5") == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "daemonset.apps/agent rolled back",
        "daemonset.apps/agent skipped rollback (current template already matches revision 1)",
    ]
    assert err == "error: unable to find specified revision 5 in history\n"


async def test_undo_without_history(
    cluster: DaemonCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    await stored(cluster, daemon_set(), revision(1, "busybox:2"))
    assert await podctl(cluster, "rollout", "undo", "ds/agent") == 1
    assert capsys.readouterr().err == "error: no last revision to roll back to\n"
