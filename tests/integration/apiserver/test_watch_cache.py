"""The watch cache and what watchers rely on, on the real apiserver over real etcd: every change
exactly once and in order, and a relist (410 Expired) across an apiserver restart; relisting
after compaction; a slow watcher
cut off without holding up the others; bookmarks; one etcd watch for any number of clients;
events sent in batches to a watch that allows them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest

from apiserver.options.etcd import WatchCacheOptions
from apiserver.server import APIServer
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import manifest, resources
from podplane.client.clientset import Client
from podplane.client.informer import Informer
from tests.integration.control_plane import etcd_process, running_apiserver
from tests.support import EtcdProcess, eventually, free_port, new_namespace, within

Change = tuple[str, str, str]  # (type, name, resourceVersion)


def pod(name: str, namespace: str, note: str = "") -> core_pb2.Pod:
    obj = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "annotations": {"note": note}},
            "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
        }
    )
    assert isinstance(obj, core_pb2.Pod)
    return obj


async def churn(client: Client, namespace: str, prefix: str, n: int) -> list[Change]:
    """Creates, updates and deletes pods; returns every acknowledged change in order."""
    done: list[Change] = []
    for i in range(n):
        name = f"{prefix}-{i}"
        created = await client.pods.create(pod(name, namespace))
        done.append(("ADDED", name, created.metadata.resource_version))
        created.metadata.labels["step"] = "updated"
        updated = await client.pods.update(created)
        done.append(("MODIFIED", name, updated.metadata.resource_version))
        if i % 3 == 0:
            deleted = await client.pods.delete(name, namespace)
            done.append(("DELETED", name, deleted.metadata.resource_version))
    return done


class ResumingWatcher:
    """Watches from a resourceVersion and, like client-go's reflector, resumes from the last one
    it saw whenever the stream ends or the server goes away, and relists when that one is too
    old to resume from (OUT_OF_RANGE: Kubernetes' 410 Expired)."""

    def __init__(self, client: Client, namespace: str, resource_version: str) -> None:
        self.client, self.namespace = client, namespace
        self.resource_version = resource_version
        self.seen: list[Change] = []
        self.state: dict[str, str] = {}  # name -> resourceVersion, as an informer's store
        self.streams = 0
        self.expired: list[str] = []
        self.relisted_at: list[int] = []

    async def run(self) -> None:
        while True:
            self.streams += 1
            try:
                stream = self.client.pods.watch(
                    self.namespace, resource_version=self.resource_version
                )
                async for ev in stream:
                    name, rv = ev.object.metadata.name, ev.object.metadata.resource_version
                    self.seen.append((ev.type, name, rv))
                    if ev.type == "DELETED":
                        self.state.pop(name, None)
                    else:
                        self.state[name] = rv
                    self.resource_version = rv
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.OUT_OF_RANGE:
                    self.expired.append(e.details() or "")
                    await self.relist()
                    continue
                assert e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED), e
                await asyncio.sleep(0.2)

    async def relist(self) -> None:
        listing = await self.client.pods.list(self.namespace)
        self.state = {p.metadata.name: p.metadata.resource_version for p in listing.items}
        self.resource_version = listing.metadata.resource_version
        self.relisted_at.append(int(self.resource_version))


@contextlib.asynccontextmanager
async def background(coro: Any) -> AsyncIterator[asyncio.Task[Any]]:
    task = asyncio.create_task(coro)
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def own_etcd() -> Iterator[EtcdProcess]:
    with etcd_process() as process:
        yield process


async def test_a_watcher_resuming_across_an_apiserver_restart_is_expired_and_relists(
    own_etcd: EtcdProcess,
) -> None:
    """Every change once and in order while the apiserver runs; after it restarted, its cache
    starts at its list, so a resume from before that is refused as Kubernetes refuses it (410
    Expired) and the watcher relists, then sees every later change once and in order. The
    restarted apiserver opens no etcd watch for it: its cache's watch serves it. The etcd is the
    test's own, so that etcd's count of watches is this test's apiservers' alone."""
    address = f"127.0.0.1:{free_port()}"
    async with running_apiserver(own_etcd) as other:  # writes while the watched apiserver is down
        other_client = Client(f"127.0.0.1:{other.port}", timeout=10)
        watched_client = Client(address, timeout=10)
        try:
            async with running_apiserver(own_etcd, address) as first:
                ns = await new_namespace(watched_client)
                start = await watched_client.pods.create(pod("start", ns))
                watcher = ResumingWatcher(watched_client, ns, start.metadata.resource_version)
                async with background(watcher.run()):
                    before = await churn(watched_client, ns, "before", 10)
                    await eventually(lambda: _has(watcher, len(before)), timeout=10)
                    etcd_watches = own_etcd.watchers()
                    await first.stop(0)
                    during = await churn(other_client, ns, "during", 10)
                    async with running_apiserver(own_etcd, address) as second:
                        after = await churn(watched_client, ns, "after", 10)
                        current, _ = await other_client.pods.list_all(ns)
                        final = {p.metadata.name: p.metadata.resource_version for p in current}

                        async def caught_up() -> bool:
                            return watcher.state == final

                        await eventually(caught_up, timeout=20, what="the watcher to catch up")
                        # A change after all the others: once the watcher has it, whatever more
                        # the stream had for it before would have come first.
                        last = await watched_client.pods.create(pod("last", ns))
                        last_change = ("ADDED", "last", last.metadata.resource_version)

                        async def has_last() -> bool:
                            return last_change in watcher.seen

                        await eventually(has_last, timeout=20, what="the watcher to see the last")
                        assert own_etcd.watchers() == etcd_watches
                        restarted_at = second.cachers["pods"].window_start
            assert watcher.seen[: len(before)] == before
            last_seen = before[-1][2]
            assert watcher.expired == [f"too old resource version: {last_seen} ({restarted_at})"]
            [relisted_at] = watcher.relisted_at
            assert watcher.seen[len(before) :] == [
                change for change in during + after if int(change[2]) > relisted_at
            ] + [last_change]
        finally:
            await other_client.close()
            await watched_client.close()


async def _has(watcher: ResumingWatcher, n: int) -> bool:
    return len(watcher.seen) >= n


async def test_informer_relists_after_compaction_and_misses_nothing(etcd: EtcdProcess) -> None:
    address = f"127.0.0.1:{free_port()}"
    async with running_apiserver(etcd) as other:
        other_client = Client(f"127.0.0.1:{other.port}", timeout=10)
        client = Client(address, timeout=10)
        try:
            async with running_apiserver(etcd, address) as first:
                ns = await new_namespace(client)
                for name in ("keep", "change", "remove"):
                    await client.pods.create(pod(name, ns))
                informer: Informer[core_pb2.Pod] = Informer(client.pods, namespace=ns)
                deleted: list[str] = []
                informer.add_handler(on_delete=lambda p: deleted.append(p.metadata.name))
                async with background(informer.run()):
                    async with asyncio.timeout(10):
                        await informer.wait_synced()

                    # Its list (resourceVersion "0", as client-go's first one) is served by the
                    # watch cache, which may be a moment behind etcd; its watch brings the rest.
                    async def has_all() -> bool:
                        return sorted(informer.keys()) == [
                            f"{ns}/change",
                            f"{ns}/keep",
                            f"{ns}/remove",
                        ]

                    await eventually(
                        has_all,
                        timeout=5,
                        interval=0.05,
                        what="the informer to have the three pods",
                    )
                    await first.stop(0)
                    # While the informer's apiserver is down: changes, then compaction of the
                    # history it would need to resume from.
                    changed = await other_client.pods.get("change", ns)
                    changed.metadata.labels["changed"] = "yes"
                    await other_client.pods.update(changed)
                    await other_client.pods.delete("remove", ns)
                    await other_client.pods.create(pod("new", ns))
                    revision = int((await other_client.pods.list(ns)).metadata.resource_version)
                    await other.etcd.compact(revision)
                    async with running_apiserver(etcd, address):

                        async def caught_up() -> bool:
                            return sorted(informer.keys()) == [
                                f"{ns}/change",
                                f"{ns}/keep",
                                f"{ns}/new",
                            ]

                        await eventually(caught_up, timeout=20, what="the informer to relist")
                        current, _ = await client.pods.list_all(ns)
                        assert {p.metadata.name: p.metadata.resource_version for p in current} == {
                            p.metadata.name: p.metadata.resource_version for p in informer.list()
                        }
                        cached = informer.get(f"{ns}/change")
                        assert cached is not None and cached.metadata.labels["changed"] == "yes"
                        assert deleted == ["remove"]
        finally:
            await other_client.close()
            await client.close()


async def test_a_slow_watcher_is_cut_off_while_fast_ones_keep_flowing(etcd: EtcdProcess) -> None:
    options = WatchCacheOptions(watcher_buffer=20)
    async with running_apiserver(etcd, watch_cache=options) as server:
        client = Client(f"127.0.0.1:{server.port}", timeout=10)
        try:
            ns = await new_namespace(client)
            await client.pods.create(pod("marker", ns))
            slow = client.pods.watch(ns)
            fast = client.pods.watch(ns)
            assert (await slow.__anext__()).object.metadata.name == "marker"  # registered
            assert (await fast.__anext__()).object.metadata.name == "marker"
            fast_seen: list[str] = []

            async def read_fast() -> None:
                async for ev in fast:
                    fast_seen.append(ev.object.metadata.name)

            big = "x" * 32 * 1024  # fills the slow watcher's transport window quickly
            async with background(read_fast()):
                for i in range(300):
                    await client.pods.create(pod(f"p-{i}", ns, big))
                await eventually(
                    lambda: _at_least(fast_seen, 300),
                    timeout=30,
                    what="the fast watcher to get every event",
                )
            assert server.cachers["pods"].terminated_watchers == 1
            slow_seen = [ev.object.metadata.name async for ev in slow]  # ends: it was closed
            assert len(slow_seen) < 300
            assert slow_seen == [f"p-{i}" for i in range(len(slow_seen))]  # in order, no gap
        finally:
            await client.close()


async def _at_least(items: list[str], n: int) -> bool:
    return len(items) >= n


async def test_bookmarks_tell_an_idle_watcher_how_far_it_is(etcd: EtcdProcess) -> None:
    options = WatchCacheOptions(bookmark_interval=0.3)
    async with running_apiserver(etcd, watch_cache=options) as server:
        client = Client(f"127.0.0.1:{server.port}", timeout=10)
        try:
            quiet, busy = await new_namespace(client), await new_namespace(client)
            listed = await client.pods.list(quiet)
            stream = client.pods.watch(
                quiet, resource_version=listed.metadata.resource_version, allow_watch_bookmarks=True
            )
            elsewhere = await client.pods.create(pod("elsewhere", busy))

            # Every event is a bookmark (nothing happens in `quiet`) until one is past the write
            # elsewhere; checked outside `eventually`, which would retry a failed assertion.
            async with asyncio.timeout(10):
                while True:
                    ev = await stream.__anext__()
                    assert ev.type == "BOOKMARK", ev
                    if int(ev.object.metadata.resource_version) >= int(
                        elsewhere.metadata.resource_version
                    ):
                        break
            stream.cancel()
        finally:
            await client.close()


async def test_lists_at_version_zero_are_served_from_the_cache() -> None:
    """resourceVersion "0" (any version) is answered by the watch cache, so it works even while
    etcd is down; "" (most recent) must read etcd, and cannot be answered then."""
    with etcd_process() as own_etcd:
        async with running_apiserver(own_etcd) as server:
            client = Client(f"127.0.0.1:{server.port}", timeout=5)
            try:
                ns = await new_namespace(client)
                created = await client.pods.create(pod("cached", ns))

                async def cached() -> bool:
                    page = await client.pods.list(ns, resource_version="0")
                    return [p.metadata.name for p in page.items] == ["cached"]

                await eventually(cached, timeout=5)
                own_etcd.process.kill()
                own_etcd.process.wait()
                page = await client.pods.list(ns, resource_version="0")
                assert [p.metadata.resource_version for p in page.items] == [
                    created.metadata.resource_version
                ]
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await client.pods.list(ns)
                assert err.value.code() in (
                    grpc.StatusCode.UNAVAILABLE,
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                )
            finally:
                await client.close()


async def test_many_client_watches_share_one_etcd_watch(
    apiserver: APIServer, client: Client, etcd: EtcdProcess
) -> None:
    ns = await new_namespace(client)
    before = etcd.watchers()
    streams = [client.pods.watch(ns) for _ in range(200)]
    marker = await client.pods.create(pod("marker", ns))
    for s in streams:
        async with asyncio.timeout(10):
            ev = await s.__anext__()
        assert ev.object.metadata.uid == marker.metadata.uid
    assert etcd.watchers() - before <= 2
    for s in streams:
        s.cancel()


async def test_a_watch_catching_up_gets_its_events_in_batches_every_one_in_order(
    apiserver: APIServer, client: Client
) -> None:
    ns = await new_namespace(client)
    start = await client.pods.create(pod("start", ns))
    created = [await client.pods.create(pod(f"p{i}", ns)) for i in range(250)]
    expected = [("ADDED", p.metadata.name, p.metadata.resource_version) for p in created]
    # The watches below replay the cache's window: wait until it holds every create (it follows
    # etcd a moment behind the acknowledgements), so that all 250 are queued when they start.
    last = int(created[-1].metadata.resource_version)
    await eventually(
        lambda: _reached(apiserver.cachers["pods"].revision, last),
        timeout=10,
        what="the watch cache to reach the last create",
    )
    stub = resources.POD.stub(client.channel)
    rv = start.metadata.resource_version

    async def messages(allow_batches: bool) -> tuple[int, list[Change]]:
        call = stub.Watch(
            meta_pb2.WatchRequest(
                namespace=ns, resource_version=rv, allow_watch_batches=allow_batches
            )
        )
        count, seen = 0, []
        async for msg in call:
            count += 1
            for ev in msg.events or [msg]:
                seen.append((ev.type, ev.object.metadata.name, ev.object.metadata.resource_version))
            if len(seen) >= len(expected):
                break
        call.cancel()
        return count, seen

    assert await messages(allow_batches=True) == (3, expected)  # 100 + 100 + 50
    assert await messages(allow_batches=False) == (250, expected)
    # podplane's client asks for batches and hands them out one event at a time.
    stream = client.pods.watch(ns, resource_version=rv)
    seen = [await within(10, anext(stream)) for _ in expected]
    stream.cancel()
    assert [
        (e.type, e.object.metadata.name, e.object.metadata.resource_version) for e in seen
    ] == expected


async def _reached(value: int, floor: int) -> bool:
    return value >= floor
