"""The shared informer factory: one informer (one list, one watch, one cache) per kind and
selectors however many consumers ask for it, every consumer's handlers told of every change, a
handler added late given what is cached, and nothing read before the caches have synced."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.informer import NAMESPACE_INDEX, namespace_of
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.fake_api import FakeCluster


def pod(name: str, namespace: str = "default") -> core_pb2.Pod:
    p = core_pb2.Pod()
    p.metadata.name, p.metadata.namespace = name, namespace
    return p


class Recorder:
    """One consumer's handlers: what they were told, in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def add(self, obj: core_pb2.Pod) -> None:
        self.seen.append(("add", obj.metadata.name))

    def update(self, _old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        self.seen.append(("update", new.metadata.name))

    def delete(self, obj: core_pb2.Pod) -> None:
        self.seen.append(("delete", obj.metadata.name))


async def settle() -> None:
    """Lets the informers' tasks take every event queued so far."""
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster()


async def stored(cluster: FakeCluster, *names: str) -> None:
    """Pods that exist before the informers start: their first list finds them."""
    for name in names:
        await cluster.pods.create(pod(name))
    cluster.deliver(resources.POD)  # no watch yet: these events reach no one


def factory_of(cluster: FakeCluster) -> SharedInformerFactory:
    return SharedInformerFactory(cluster)  # type: ignore[arg-type]


async def test_every_consumer_of_a_kind_gets_the_same_informer() -> None:
    informers = factory_of(FakeCluster())
    pods = informers.informer_for(resources.POD)
    assert informers.informer_for(resources.POD) is pods
    assert informers.lister(resources.POD) is pods
    nodes: object = informers.informer_for(resources.NODE)
    assert nodes is not pods
    # A filtered watch is another watch: its own informer, as client-go's filtered factories.
    bound = informers.informer_for(resources.POD, field_selector="spec.nodeName!=")
    assert bound is not pods
    assert informers.informer_for(resources.POD, field_selector="spec.nodeName!=") is bound
    assert informers.informers() == [pods, nodes, bound]


async def test_one_watch_serves_every_consumers_handlers(cluster: FakeCluster) -> None:
    informers = factory_of(cluster)
    await stored(cluster, "before")
    consumers = [Recorder() for _ in range(3)]
    for c in consumers:
        informers.informer_for(resources.POD).add_handler(c.add, c.update, c.delete)
    informers.start()
    try:
        await informers.wait_for_cache_sync(timeout=5)
        created = await cluster.pods.create(pod("after"))
        await cluster.pods.update(created)
        await cluster.pods.delete("before", "default")
        cluster.deliver(resources.POD)
        await settle()
    finally:
        await informers.shutdown()
    assert len(cluster.pods._watchers) == 1
    for c in consumers:
        assert c.seen == [
            ("add", "before"),
            ("add", "after"),
            ("update", "after"),
            ("delete", "before"),
        ]


async def test_a_handler_added_after_the_sync_is_given_the_cached_objects_as_adds(
    cluster: FakeCluster,
) -> None:
    informers = factory_of(cluster)
    pods = informers.informer_for(resources.POD)
    await stored(cluster, "a", "b")
    informers.start()
    try:
        await informers.wait_for_cache_sync(timeout=5)
        late = Recorder()
        pods.add_handler(late.add, late.update, late.delete)
        assert sorted(late.seen) == [("add", "a"), ("add", "b")]
        await cluster.pods.create(pod("c"))
        cluster.deliver(resources.POD)
        await settle()
    finally:
        await informers.shutdown()
    assert late.seen[2:] == [("add", "c")]


async def test_the_cache_sync_waits_for_every_started_informers_first_list(
    cluster: FakeCluster,
) -> None:
    informers = factory_of(cluster)
    release = asyncio.Event()
    list_nodes = cluster.nodes.list_all

    async def slow_list(namespace: str = "", **kw: Any) -> tuple[list[core_pb2.Node], str]:
        await release.wait()
        return await list_nodes(namespace, **kw)

    cluster.nodes.list_all = slow_list  # type: ignore[method-assign]
    informers.informer_for(resources.POD)
    nodes = informers.informer_for(resources.NODE)
    informers.start()
    try:
        synced = asyncio.create_task(informers.wait_for_cache_sync())
        await settle()
        assert informers.informer_for(resources.POD).has_synced
        assert not nodes.has_synced and not synced.done()
        release.set()
        async with asyncio.timeout(5):
            await synced
        assert nodes.has_synced
    finally:
        await informers.shutdown()


async def test_start_runs_each_informer_once_and_those_made_since(cluster: FakeCluster) -> None:
    informers = factory_of(cluster)
    assert not informers.started
    informers.informer_for(resources.POD)
    informers.start()
    informers.start()
    try:
        await informers.wait_for_cache_sync(timeout=5)
        assert len(cluster.pods._watchers) == 1
        # Asked for after the start: runs at the next start, and the sync waits for it then.
        nodes = informers.informer_for(resources.NODE)
        await settle()
        assert not nodes.has_synced
        informers.start()
        await informers.wait_for_cache_sync(timeout=5)
        assert nodes.has_synced
        assert (len(cluster.pods._watchers), len(cluster.nodes._watchers)) == (1, 1)
    finally:
        await informers.shutdown()
    assert not informers.started


async def test_consumers_share_an_index_only_with_the_same_function() -> None:
    pods = factory_of(FakeCluster()).informer_for(resources.POD)
    pods.add_index(NAMESPACE_INDEX, namespace_of)
    pods.add_index(NAMESPACE_INDEX, namespace_of)  # a second consumer asking for the same
    pods._store(pod("a", "team"))
    assert [p.metadata.name for p in pods.by_index(NAMESPACE_INDEX, "team")] == ["a"]
    with pytest.raises(ValueError, match="index 'namespace' exists"):
        pods.add_index(NAMESPACE_INDEX, lambda p: [p.metadata.name])
