"""The ReplicaSet controller against an in-memory apiserver whose watch events arrive only when
the test delivers them: it does not act again while its cache lags behind its own creates and
deletes, it creates at most the burst per pass in slow-start batches, and expectations that
are never met time out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from controller.framework.expectations import Expectations
from controller.replicaset.controller import ReplicaSetController
from podplane.api.apps.v1 import apps_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest, resources
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit import waiting
from tests.unit.controller.fake_api import FakeCluster

NS = "default"


def replica_set(replicas: int) -> apps_pb2.ReplicaSet:
    rs = manifest.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        },
        apps_pb2.ReplicaSet,
    )
    assert isinstance(rs, apps_pb2.ReplicaSet)
    return rs


async def until(check: Callable[[], bool], what: str) -> None:
    await waiting.until(check, what)


async def quiet() -> None:
    """Lets the controller run whatever it would do next."""
    await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def running(controller: ReplicaSetController[apps_pb2.ReplicaSet]) -> AsyncIterator[None]:
    task = asyncio.create_task(controller.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def started(
    cluster: FakeCluster, replicas: int, **options: int
) -> tuple[ReplicaSetController[apps_pb2.ReplicaSet], apps_pb2.ReplicaSet]:
    controller = ReplicaSetController(cluster, SharedInformerFactory(cluster), **options)  # type: ignore[call-overload, arg-type]
    rs = await cluster.replicasets.create(replica_set(replicas))
    return controller, rs


async def test_it_does_not_create_again_before_its_cache_shows_its_creates() -> None:
    cluster = FakeCluster()
    controller, rs = await started(cluster, 3)
    async with running(controller):
        await until(lambda: len(cluster.pods.created) == 3, "3 creates")
        # The status write comes back, the pods do not yet: the owner is synced again.
        cluster.deliver(resources.REPLICA_SET)
        await quiet()
        assert len(cluster.pods.created) == 3
        assert controller.expectations.pending(f"{NS}/web") == (3, 0)

        cluster.deliver(resources.POD)
        await until(lambda: controller.expectations.satisfied(f"{NS}/web"), "expectations met")
        cluster.deliver()
        await quiet()
        assert len(cluster.pods.created) == 3
    pod = cluster.pods.created[0]
    assert pod.metadata.generate_name == "web-"
    assert pod.metadata.owner_references[0].uid == rs.metadata.uid


async def test_it_does_not_delete_again_before_its_cache_shows_its_deletes() -> None:
    cluster = FakeCluster()
    controller, _ = await started(cluster, 5)
    async with running(controller):
        await until(lambda: len(cluster.pods.created) == 5, "5 creates")
        cluster.deliver()
        await quiet()
        live = await cluster.replicasets.get("web", NS)
        live.spec.replicas = 2
        await cluster.replicasets.update(live)
        cluster.deliver(resources.REPLICA_SET)
        await until(lambda: len(cluster.pods.deleted) == 3, "3 deletes")
        controller.loop.enqueue(f"{NS}/web")  # synced again before the deletions show
        await quiet()
        assert len(cluster.pods.delete_calls) == 3 and len(cluster.pods.created) == 5
        assert controller.expectations.pending(f"{NS}/web") == (0, 3)
        cluster.deliver()
        await until(lambda: controller.expectations.satisfied(f"{NS}/web"), "deletes seen")
        await quiet()
        assert len(cluster.pods.delete_calls) == 3 and len(cluster.pods.store) == 2


async def test_one_pass_creates_at_most_the_burst_in_slow_start_batches() -> None:
    cluster = FakeCluster()
    in_flight, batches = 0, []
    create = cluster.pods.create

    async def counting_create(obj: core_pb2.Pod) -> core_pb2.Pod:
        nonlocal in_flight
        in_flight += 1
        if in_flight == 1:
            batches.append(0)
        batches[-1] += 1
        await asyncio.sleep(0)
        in_flight -= 1
        return await create(obj)

    cluster.pods.create = counting_create  # type: ignore[method-assign]
    controller, _ = await started(cluster, 1200, burst_replicas=500)
    async with running(controller):
        await until(lambda: len(cluster.pods.created) == 500, "the first burst")
        await quiet()
        assert len(cluster.pods.created) == 500
        assert batches == [1, 2, 4, 8, 16, 32, 64, 128, 245]
        cluster.deliver()
        await until(lambda: len(cluster.pods.created) == 1000, "the second burst")
        cluster.deliver()
        await until(lambda: len(cluster.pods.created) == 1200, "the rest")


async def test_expectations_never_met_time_out() -> None:
    cluster = FakeCluster()
    now = [0.0]
    controller, _ = await started(cluster, 2)
    controller.expectations = Expectations(timeout=300.0, clock=lambda: now[0])
    async with running(controller):
        await until(lambda: len(cluster.pods.created) == 2, "2 creates")
        # The pods' events are lost; someone else deletes them meanwhile.
        cluster.pods.store.clear()
        cluster.deliver(resources.REPLICA_SET)
        await quiet()
        assert len(cluster.pods.created) == 2
        now[0] = 301.0
        controller.loop.enqueue(f"{NS}/web")
        await until(lambda: len(cluster.pods.created) == 4, "creates after the timeout")
