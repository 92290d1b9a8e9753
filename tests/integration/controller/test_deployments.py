"""The Deployment controller with the ReplicaSet controller, against the real apiserver over a
real etcd, both running in this process. No kubelet: a task in the test plays one, marking each
new pod Running and Ready shortly after it appears. A deployment gets one ReplicaSet per
template; a template change rolls out without ever dropping below replicas - maxUnavailable
available pods (a watch checks every change), Recreate never runs both templates at once, old
ReplicaSets beyond revisionHistoryLimit go, and `podctl rollout undo|status|history` work on it."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from controller.deployment.controller import DeploymentController
from controller.deployment.revision import template_hash
from controller.replicaset.controller import ReplicaSetController
from podctl.__main__ import run as podctl
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.informer_factory import SharedInformerFactory
from tests.support import eventually, new_namespace


@contextlib.asynccontextmanager
async def running(*tasks_to_run: Awaitable[None]) -> AsyncIterator[None]:
    tasks = [asyncio.ensure_future(t) for t in tasks_to_run]
    try:
        yield
    finally:
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception() is not None:
                raise AssertionError(f"a background task crashed: {t.exception()!r}")
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def deployment(ns: str, name: str, replicas: int, image: str, **spec: Any) -> apps_pb2.Deployment:
    obj: Any = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                **spec,
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "web", "image": image}]},
                },
            },
        },
        apps_pb2.Deployment,
    )
    return obj  # type: ignore[no-any-return]


async def fake_kubelet(client: Client, ns: str, delay: float = 0.2) -> None:
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


def is_available(pod: Any) -> bool:
    return (
        pod.status.phase == "Running"
        and not pod.metadata.deletion_timestamp
        and any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)
    )


@dataclass
class PodWatch:
    """Every state of the namespace's pods a watch saw: the fewest available pods while armed,
    and whether pods of two templates were ever active together."""

    pods: dict[str, Any] = field(default_factory=dict)
    armed: bool = False
    min_available: int | None = None
    mixed_templates: bool = False

    def images(self) -> set[str]:
        return {
            p.spec.containers[0].image
            for p in self.pods.values()
            if not p.metadata.deletion_timestamp
        }

    def available(self) -> int:
        return sum(is_available(p) for p in self.pods.values())


async def watch_pods(client: Client, ns: str, seen: PodWatch) -> None:
    async for event in client.pods.watch(ns):
        if event.type == "DELETED":
            seen.pods.pop(event.object.metadata.name, None)
        else:
            seen.pods[event.object.metadata.name] = event.object
        if seen.armed:
            available = seen.available()
            seen.min_available = min(
                available, seen.min_available if seen.min_available is not None else available
            )
            seen.mixed_templates |= len(seen.images()) > 1


@contextlib.asynccontextmanager
async def cluster(
    client: Client, ns: str, seen: PodWatch | None = None
) -> AsyncIterator[DeploymentController]:
    informers = SharedInformerFactory(client)  # one per process, as the controller-manager's
    controller = DeploymentController(client, informers)
    extra = [watch_pods(client, ns, seen)] if seen is not None else []
    async with running(
        controller.run(),
        ReplicaSetController(client, informers).run(),
        fake_kubelet(client, ns),
        *extra,
    ):
        yield controller


async def rolled_out(client: Client, ns: str, name: str, timeout: float = 40.0) -> Any:
    async def check() -> Any:
        d = await client.deployments.get(name, ns)
        s, replicas = d.status, d.spec.replicas
        done = (
            s.observed_generation >= d.metadata.generation
            and s.updated_replicas == s.replicas == s.available_replicas == replicas
        )
        return d if done else None

    return await eventually(check, timeout=timeout, what=f"deployment {name} to roll out")


async def edit(client: Client, ns: str, name: str, change: Callable[[Any], None]) -> Any:
    while True:
        d = await client.deployments.get(name, ns)
        change(d)
        try:
            return await client.deployments.update(d)
        except Exception as e:
            if not is_conflict(e):
                raise


def set_image(image: str) -> Callable[[Any], None]:
    def change(d: Any) -> None:
        d.spec.template.spec.containers[0].image = image

    return change


async def replica_sets(client: Client, ns: str) -> list[Any]:
    return sorted(
        (await client.replicasets.list(ns)).items,
        key=lambda rs: int(rs.metadata.annotations.get("deployment.kubernetes.io/revision", "0")),
    )


async def podctl_lines(
    capsys: pytest.CaptureFixture[str], client: Client, *argv: str
) -> tuple[int, list[str]]:
    code = await asyncio.to_thread(podctl, [*argv, "--server", client.target])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


async def test_a_deployment_gets_a_replica_set_for_its_template(client: Client) -> None:
    ns = await new_namespace(client)
    async with cluster(client, ns):
        await client.deployments.create(deployment(ns, "web", 3, "busybox:1.0"))
        d = await rolled_out(client, ns, "web")

    (rs,) = await replica_sets(client, ns)
    pod_hash = template_hash(d.spec.template)
    assert rs.metadata.name == f"web-{pod_hash}"
    assert rs.spec.replicas == 3 and rs.status.available_replicas == 3
    assert rs.spec.selector.match_labels == {"app": "web", "pod-template-hash": pod_hash}
    assert rs.spec.template.metadata.labels == {"app": "web", "pod-template-hash": pod_hash}
    assert rs.metadata.labels["pod-template-hash"] == pod_hash
    assert rs.metadata.annotations == {
        "deployment.kubernetes.io/revision": "1",
        "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4",
    }
    (ref,) = rs.metadata.owner_references
    assert (ref.api_version, ref.kind, ref.uid, ref.controller) == (
        "apps/v1",
        "Deployment",
        d.metadata.uid,
        True,
    )
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    s = d.status
    assert (
        s.replicas,
        s.updated_replicas,
        s.ready_replicas,
        s.available_replicas,
        s.unavailable_replicas,
    ) == (3, 3, 3, 3, 0)
    conditions = {c.type: (c.status, c.reason, c.message) for c in s.conditions}
    assert conditions == {
        "Available": ("True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
        "Progressing": (
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{rs.metadata.name}" has successfully progressed.',
        ),
    }
    pods = (await client.pods.list(ns)).items
    assert len(pods) == 3
    assert all(p.metadata.labels["pod-template-hash"] == pod_hash for p in pods)


@pytest.mark.parametrize(
    "replicas,max_surge,max_unavailable,least_available",
    [
        (4, "1", "1", 3),
        (3, "1", "0", 3),
        (4, "25%", "50%", 2),  # surge rounds up to 1, unavailable down to 2
    ],
)
async def test_rolling_update_keeps_enough_pods_available(
    client: Client,
    capsys: pytest.CaptureFixture[str],
    replicas: int,
    max_surge: str,
    max_unavailable: str,
    least_available: int,
) -> None:
    ns = await new_namespace(client)
    seen = PodWatch()
    strategy = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": max_surge, "maxUnavailable": max_unavailable},
    }
    async with cluster(client, ns, seen) as controller:
        await client.deployments.create(
            deployment(ns, "web", replicas, "busybox:1.0", strategy=strategy)
        )
        await rolled_out(client, ns, "web")
        seen.armed = True
        await edit(client, ns, "web", set_image("busybox:2.0"))
        code, lines = await podctl_lines(
            capsys, client, "rollout", "status", "deployment/web", "-n", ns, "--timeout", "40s"
        )
        d = await rolled_out(client, ns, "web")
        await controller.recorder.flush()

    assert code == 0
    assert seen.min_available is not None and seen.min_available >= least_available
    assert seen.mixed_templates  # both templates ran side by side: a rolling update
    old, new = await replica_sets(client, ns)
    assert (old.spec.replicas, new.spec.replicas) == (0, replicas)
    assert new.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    assert new.spec.template.spec.containers[0].image == "busybox:2.0"
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    pods = [p for p in (await client.pods.list(ns)).items if not p.metadata.deletion_timestamp]
    assert sorted(p.spec.containers[0].image for p in pods) == ["busybox:2.0"] * replicas
    # kubectl's lines, the last one once the rollout is done.
    assert lines[-1] == 'deployment "web" successfully rolled out'
    waiting = re.compile(
        r'^Waiting for deployment "web" rollout to finish: (\d+ out of \d+ new '
        r"replicas have been updated|\d+ old replicas are pending termination|"
        r"\d+ of \d+ updated replicas are available)\.\.\.$"
    )
    assert all(
        waiting.match(line) or line.startswith("Waiting for deployment spec update")
        for line in lines[:-1]
    ), lines
    events = (await client.events.list(ns, field_selector="involvedObject.name=web")).items
    messages = [e.message for e in events if e.reason == "ScalingReplicaSet"]
    assert f"Scaled up replica set {new.metadata.name} from 0 to 1" in messages
    assert f"Scaled down replica set {old.metadata.name} from 1 to 0" in messages or any(
        m.startswith(f"Scaled down replica set {old.metadata.name} from") for m in messages
    )


async def test_recreate_stops_every_old_pod_before_starting_new_ones(client: Client) -> None:
    ns = await new_namespace(client)
    seen = PodWatch()
    async with cluster(client, ns, seen):
        await client.deployments.create(
            deployment(ns, "web", 3, "busybox:1.0", strategy={"type": "Recreate"})
        )
        await rolled_out(client, ns, "web")
        seen.armed = True
        await edit(client, ns, "web", set_image("busybox:2.0"))
        await rolled_out(client, ns, "web")

    assert not seen.mixed_templates
    assert seen.min_available == 0
    assert [rs.spec.replicas for rs in await replica_sets(client, ns)] == [0, 3]


async def test_old_replica_sets_beyond_the_history_limit_are_deleted(client: Client) -> None:
    ns = await new_namespace(client)
    async with cluster(client, ns):
        await client.deployments.create(
            deployment(ns, "web", 1, "busybox:1.0", revisionHistoryLimit=1)
        )
        for image in ("busybox:2.0", "busybox:3.0"):
            await rolled_out(client, ns, "web")
            await edit(client, ns, "web", set_image(image))
        await rolled_out(client, ns, "web")

        async def two_left() -> list[Any] | None:
            rss = await replica_sets(client, ns)
            return rss if len(rss) == 2 else None

        kept = await eventually(two_left, what="the oldest replica set to be deleted")
    assert [rs.spec.template.spec.containers[0].image for rs in kept] == [
        "busybox:2.0",
        "busybox:3.0",
    ]


async def test_rollout_undo_restores_the_previous_template(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = await new_namespace(client)
    async with cluster(client, ns):
        await client.deployments.create(deployment(ns, "web", 2, "busybox:1.0"))
        await rolled_out(client, ns, "web")
        await edit(client, ns, "web", set_image("busybox:2.0"))
        await rolled_out(client, ns, "web")

        assert await podctl_lines(
            capsys, client, "rollout", "undo", "deployment/web", "-n", ns
        ) == (0, ["deployment.apps/web rolled back"])
        d = await rolled_out(client, ns, "web")
        assert d.spec.template.spec.containers[0].image == "busybox:1.0"
        assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
        # The revision-1 replica set is the new one again, as revision 3.
        old, new = await replica_sets(client, ns)
        assert new.spec.template.spec.containers[0].image == "busybox:1.0"
        assert new.metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
        assert (old.spec.replicas, new.spec.replicas) == (0, 2)
        pods = [p for p in (await client.pods.list(ns)).items if not p.metadata.deletion_timestamp]
        assert [p.spec.containers[0].image for p in pods] == ["busybox:1.0"] * 2

        assert await podctl_lines(capsys, client, "rollout", "history", "deploy/web", "-n", ns) == (
            0,
            [
                "deployment.apps/web ",
                "REVISION  CHANGE-CAUSE",
                "2         <none>",
                "3         <none>",
                "",
            ],
        )
        assert await podctl_lines(
            capsys, client, "rollout", "undo", "deployment", "web", "--to-revision=2", "-n", ns
        ) == (0, ["deployment.apps/web rolled back"])
        d = await rolled_out(client, ns, "web")
        assert d.spec.template.spec.containers[0].image == "busybox:2.0"
        assert await podctl_lines(
            capsys, client, "rollout", "undo", "deployment/web", "--to-revision=9", "-n", ns
        ) == (1, ["error: unable to find specified revision 9 in history"])


async def test_changing_replicas_resizes_without_a_new_revision(client: Client) -> None:
    ns = await new_namespace(client)
    async with cluster(client, ns):
        await client.deployments.create(deployment(ns, "web", 2, "busybox:1.0"))
        await rolled_out(client, ns, "web")

        def scale(d: Any) -> None:
            d.spec.replicas = 5

        await edit(client, ns, "web", scale)
        d = await rolled_out(client, ns, "web")
    (rs,) = await replica_sets(client, ns)
    assert rs.spec.replicas == 5
    assert rs.metadata.annotations["deployment.kubernetes.io/desired-replicas"] == "5"
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "1"


async def test_a_matching_orphan_replica_set_is_adopted(client: Client) -> None:
    ns = await new_namespace(client)
    orphan: Any = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web-orphan", "namespace": ns, "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "busybox:1.0"}]},
                },
            },
        },
        apps_pb2.ReplicaSet,
    )
    # Stored before the controllers start, so their replica set caches list it: a controller
    # adopts only what it has seen (one whose watch delivers the orphan after the deployment
    # creates a replica set of its own, as kube-controller-manager would).
    await client.replicasets.create(orphan)
    async with cluster(client, ns):
        await client.deployments.create(deployment(ns, "web", 2, "busybox:1.0"))
        d = await rolled_out(client, ns, "web")
    (rs,) = await replica_sets(client, ns)  # adopted as the new replica set: none created
    assert rs.metadata.name == "web-orphan"
    (ref,) = rs.metadata.owner_references
    assert (ref.kind, ref.uid, ref.controller) == ("Deployment", d.metadata.uid, True)
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
