"""The StatefulSet controller on the in-memory apiserver, with a hand for the kubelet: sets as users
write them, pods the test starts (Running and Ready), fails or deletes, and the state to read back
(pods by name, claims, revisions, events)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from apiserver.defaulting import statefulset as defaulting
from controller.statefulset.controller import StatefulSetController
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, timeutil
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit import waiting
from tests.unit.controller.fake_api import FakeCluster

NS = "default"


def statefulset(
    replicas: int = 3,
    *,
    image: str = "busybox:1.37",
    claims: bool = True,
    **spec: Any,
) -> apps_pb2.StatefulSet:
    """web, governed by the Service nginx, with a claim template www (unless `claims` is
    False), defaulted as the apiserver stores it."""
    doc: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {
            "serviceName": "nginx",
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "nginx", "image": image}]},
            },
            **spec,
        },
    }
    if claims:
        doc["spec"]["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "www"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ]
    sts = manifest.from_dict(doc, apps_pb2.StatefulSet)
    defaulting.statefulset(sts)
    defaulting.prepare_for_create(sts)
    return sts


class Cluster:
    """A FakeCluster whose pods get the Pending phase the apiserver gives a new pod."""

    def __init__(self) -> None:
        self.api = FakeCluster()
        create = self.api.pods.create

        async def create_pending(pod: core_pb2.Pod) -> core_pb2.Pod:
            pending = core_pb2.Pod()
            pending.CopyFrom(pod)
            pending.status.phase = pending.status.phase or "Pending"
            return await create(pending)

        self.api.pods.create = create_pending  # type: ignore[method-assign, assignment]
        self.controller = StatefulSetController(self.api, SharedInformerFactory(self.api))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ reading
    def pod(self, name: str) -> core_pb2.Pod | None:
        return self.api.pods.store.get(f"{NS}/{name}")

    def pod_names(self) -> list[str]:
        return sorted(p.metadata.name for p in self.api.pods.store.values())

    def claim(self, name: str) -> core_pb2.PersistentVolumeClaim | None:
        return self.api.persistentvolumeclaims.store.get(f"{NS}/{name}")

    def claim_names(self) -> list[str]:
        return sorted(c.metadata.name for c in self.api.persistentvolumeclaims.store.values())

    def sts(self, name: str = "web") -> apps_pb2.StatefulSet:
        return self.api.statefulsets.store[f"{NS}/{name}"]

    def revisions(self) -> list[apps_pb2.ControllerRevision]:
        return sorted(self.api.controllerrevisions.store.values(), key=lambda r: r.revision)

    def event_messages(self) -> list[str]:
        return [e.message for e in self.api.events.created]

    # ------------------------------------------------------------------ the kubelet's hand
    async def start(self, *names: str) -> None:
        """The pods are Running and Ready."""
        for name in names:
            pod = self.pod(name)
            assert pod is not None, f"no pod {name}"
            started = core_pb2.Pod()
            started.CopyFrom(pod)
            started.status.phase = "Running"
            del started.status.conditions[:]
            started.status.conditions.add(
                type="Ready", status="True", last_transition_time=timeutil.now()
            )
            await self.api.pods.update_status(started)

    async def start_all(self) -> None:
        await self.start(*[n for n in self.pod_names() if not self._running(n)])

    def _running(self, name: str) -> bool:
        pod = self.pod(name)
        return pod is not None and pod.status.phase == "Running"

    async def fail(self, name: str) -> None:
        pod = self.pod(name)
        assert pod is not None
        failed = core_pb2.Pod()
        failed.CopyFrom(pod)
        failed.status.phase = "Failed"
        await self.api.pods.update_status(failed)

    async def update_set(self, change: Callable[[apps_pb2.StatefulSet], None]) -> None:
        """A user's update of the set: the spec changed, the generation raised."""
        sts = apps_pb2.StatefulSet()
        sts.CopyFrom(self.sts())
        change(sts)
        defaulting.statefulset(sts)
        sts.metadata.generation += 1
        await self.api.statefulsets.update(sts)

    # ------------------------------------------------------------------ waiting
    async def until(self, check: Callable[[], bool], what: str) -> None:
        """Delivers the watch events until `check` holds."""
        try:
            await waiting.until(check, what, each=self.api.deliver)
        except AssertionError as e:
            raise AssertionError(f"{e}: pods {self.pod_names()}") from None

    async def settle(self) -> None:
        """Lets the controller act on everything it has been told."""
        for _ in range(20):
            self.api.deliver()
            await asyncio.sleep(0.005)

    async def roll_until(self, check: Callable[[], bool], what: str) -> None:
        """Plays the kubelet (every pod started as it appears) until `check` holds."""
        deadline = time.monotonic() + waiting.TIMEOUT
        while time.monotonic() < deadline:
            self.api.deliver()
            await self.start_all()
            if check():
                return
            await asyncio.sleep(0.005)
        raise AssertionError(f"timed out waiting for {what}: pods {self.pod_names()}")


@contextlib.asynccontextmanager
async def running(cluster: Cluster) -> AsyncIterator[Cluster]:
    task = asyncio.create_task(cluster.controller.run())
    try:
        yield cluster
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def with_set(sts: apps_pb2.StatefulSet, body: Callable[[Cluster], Awaitable[None]]) -> None:
    cluster = Cluster()
    await cluster.api.statefulsets.create(sts)
    async with running(cluster):
        await body(cluster)
