"""The watch cache's fan-out, against a fake etcd: what each watcher is sent (selectors, the
spec.nodeName index, objects entering and leaving a selection), the event window, and the cut-off
of a watcher that does not read."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from apiserver.errors import APIError
from apiserver.registry import cacher as cacher_module
from apiserver.registry.cacher import Cacher
from apiserver.registry.generic.options import ListOptions, WatchOptions
from apiserver.registry.generic.store import Store
from apiserver.registry.strategy import STRATEGIES
from apiserver.storage.etcd import KeyValue, WatchEvent
from podplane.apimachinery import manifest
from tests.support import within
from tests.unit import waiting


class FakeEtcd:
    def __init__(self) -> None:
        self.revision = 10
        self.batches: asyncio.Queue[list[WatchEvent]] = asyncio.Queue()

    async def range(
        self, start: bytes, end: bytes, *, limit: int = 0, revision: int = 0
    ) -> tuple[list[KeyValue], bool, int]:
        return [], False, self.revision

    async def watch(
        self,
        start: bytes,
        end: bytes,
        start_revision: int,
        progress_notify: bool = False,
        prev_kv: bool = True,
    ) -> AsyncIterator[list[WatchEvent]]:
        while True:
            batch = await self.batches.get()
            # As etcd does: the previous values only when asked for.
            yield (
                batch
                if prev_kv
                else [WatchEvent(ev.type, ev.kv, None, ev.revision) for ev in batch]
            )


def pod(name: str, node: str = "", phase: str = "Pending") -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": {"app": "web"}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
            "status": {"phase": phase},
        }
    )


class Cluster:
    """A cacher over the fake etcd, and a way to write pods into its watch stream."""

    def __init__(self, **options: Any) -> None:
        self.etcd = FakeEtcd()
        self.store = Store(self.etcd, STRATEGIES["pods"])  # type: ignore[arg-type]
        self.cacher = Cacher(self.store, trigger_field="spec.nodeName", **options)
        self.stored: dict[str, KeyValue] = {}

    async def __aenter__(self) -> Cluster:
        self.cacher.start()
        await self.cacher.wait_ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cacher.stop()

    async def put(self, obj: Any) -> int:
        return await self._write(obj.metadata.name, obj)

    async def put_together(self, *objs: Any) -> int:
        """New objects written in one etcd transaction (a group commit): one revision, their
        events in one watch response."""
        self.etcd.revision += 1
        events = []
        for obj in objs:
            key = self.store.key("default", obj.metadata.name)
            kv = KeyValue(key, self.store.encode(obj), self.etcd.revision, self.etcd.revision)
            self.stored[obj.metadata.name] = kv
            events.append(WatchEvent("PUT", kv, None, self.etcd.revision))
        await self.etcd.batches.put(events)
        await self._caught_up()
        return self.etcd.revision

    async def _caught_up(self) -> None:
        """Returns once the cacher has applied every event sent (a few seconds at most)."""
        deadline = time.monotonic() + 5
        while self.cacher.revision < self.etcd.revision:
            assert time.monotonic() < deadline, (
                f"the cacher is at {self.cacher.revision}, etcd at {self.etcd.revision}"
            )
            await asyncio.sleep(0)

    async def delete(self, name: str) -> int:
        return await self._write(name, None)

    async def _write(self, name: str, obj: Any | None) -> int:
        self.etcd.revision += 1
        key = self.store.key("default", name)
        prev = self.stored.get(name)
        if obj is None:
            assert prev is not None
            kv = KeyValue(key, b"", self.etcd.revision, 0)
            del self.stored[name]
            event = WatchEvent("DELETE", kv, prev, self.etcd.revision)
        else:
            kv = KeyValue(key, self.store.encode(obj), self.etcd.revision, self.etcd.revision)
            self.stored[name] = kv
            event = WatchEvent("PUT", kv, prev, self.etcd.revision)
        await self.etcd.batches.put([event])
        await self._caught_up()
        return self.etcd.revision


class Reader:
    """A client watch whose stream is already being read (an async generator registers its
    watcher with the cache only once iterated)."""

    def __init__(self, stream: AsyncIterator[Any]) -> None:
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: AsyncIterator[Any]) -> None:
        async for ev in stream:
            await self.events.put(ev)

    async def received(self, n: int) -> list[tuple[str, str]]:
        evs = [await within(waiting.TIMEOUT, self.events.get()) for _ in range(n)]
        return [(ev.type, ev.object.metadata.name) for ev in evs]


async def reading(*streams: AsyncIterator[Any]) -> list[Reader]:
    readers = [Reader(s) for s in streams]
    await asyncio.sleep(0.01)
    return readers


async def received(stream: AsyncIterator[Any], n: int) -> list[tuple[str, str]]:
    return [
        (ev.type, ev.object.metadata.name)
        for ev in [await within(waiting.TIMEOUT, anext(stream)) for _ in range(n)]
    ]


async def test_a_node_watcher_sees_its_pods_arrive_change_and_leave() -> None:
    async with Cluster() as c:
        on_a, on_b, unscheduled = await reading(
            c.cacher.watch("", WatchOptions(field_selector="spec.nodeName=node-a")),
            c.cacher.watch("", WatchOptions(field_selector="spec.nodeName=node-b")),
            c.cacher.watch("", WatchOptions(field_selector="spec.nodeName=")),
        )
        await c.put(pod("p"))
        await c.put(pod("p", node="node-a"))  # bound
        await c.put(pod("p", node="node-a", phase="Running"))
        await c.delete("p")
        await c.put(pod("q", node="node-b"))
        assert await on_a.received(3) == [("ADDED", "p"), ("MODIFIED", "p"), ("DELETED", "p")]
        assert await on_b.received(1) == [("ADDED", "q")]
        assert await unscheduled.received(2) == [("ADDED", "p"), ("DELETED", "p")]
        assert on_a.events.empty() and on_b.events.empty() and unscheduled.events.empty()
        assert sum(len(g) for g in c.cacher._triggered.values()) == 3


async def test_a_watch_from_a_version_replays_the_window_after_it() -> None:
    async with Cluster(capacity=3) as c:
        revisions = [await c.put(pod(f"p{i}")) for i in range(5)]
        # The window holds the last 3 events: a watch from the 2nd write on is served by it.
        replay = c.cacher.watch("", WatchOptions(resource_version=str(revisions[1])))
        assert await received(replay, 3) == [("ADDED", "p2"), ("ADDED", "p3"), ("ADDED", "p4")]
        assert c.cacher.window_start == revisions[1]
        listing = await c.cacher.list("default", ListOptions(label_selector="app=web"))
        assert [p.metadata.name for p in listing.items] == [f"p{i}" for i in range(5)]
        assert listing.metadata.resource_version == str(revisions[-1])


async def test_a_watch_from_before_the_window_is_expired_not_served_from_etcd() -> None:
    """As Kubernetes' watch cache answers it (410 Expired): the client relists. Served from
    etcd's history, each such watch held an etcd watch of its own for as long as it lasted."""
    async with Cluster(capacity=3) as c:
        revisions = [await c.put(pod(f"p{i}")) for i in range(5)]
        opened: list[tuple[object, ...]] = []

        def watch(*args: object, **kwargs: object) -> AsyncIterator[list[WatchEvent]]:
            opened.append(args)
            raise AssertionError("no etcd watch is opened for it")

        c.etcd.watch = watch  # type: ignore[method-assign]
        with pytest.raises(APIError) as err:
            await c.cacher.watch("", WatchOptions(resource_version=str(revisions[0]))).__anext__()
        assert err.value.reason == "Expired"
        assert err.value.message == (
            f"too old resource version: {revisions[0]} ({c.cacher.window_start})"
        )
        assert opened == []
        # The oldest revision the window still covers is served.
        still = c.cacher.watch("", WatchOptions(resource_version=str(revisions[1])))
        assert await received(still, 3) == [("ADDED", "p2"), ("ADDED", "p3"), ("ADDED", "p4")]


async def test_a_watcher_that_does_not_read_is_closed_and_the_others_go_on() -> None:
    async with Cluster(watcher_buffer=2) as c:
        slow = c.cacher.watch("")
        fast = c.cacher.watch("")
        await c.put(pod("first"))
        assert await received(slow, 1) == [("ADDED", "first")]
        assert await received(fast, 1) == [("ADDED", "first")]
        for i in range(2):
            await c.put(pod(f"p{i}"))
            assert await received(fast, 1) == [("ADDED", f"p{i}")]
        await c.put(pod("overflow"))  # the slow watcher's buffer of 2 is full
        assert await received(fast, 1) == [("ADDED", "overflow")]
        assert c.cacher.terminated_watchers == 1
        with pytest.raises(StopAsyncIteration):
            await slow.__anext__()


async def test_bad_selectors_are_refused_before_anything_is_sent() -> None:
    async with Cluster() as c:
        with pytest.raises(APIError) as err:
            await c.cacher.watch("", WatchOptions(field_selector="spec.color=red")).__anext__()
        assert "field label not supported: spec.color" in err.value.message


async def test_a_watcher_behind_gets_what_is_queued_in_batches_in_order() -> None:
    async with Cluster() as c:
        replay_from = await c.put(pod("p0"))
        live = c.cacher.watch_batches("", max_batch=3)
        # The current state first (which registers the watcher), then what changes.
        async with asyncio.timeout(waiting.TIMEOUT):
            first = await live.__anext__()
        assert [(ev.type, ev.object.metadata.name) for ev in first] == [("ADDED", "p0")]
        for i in range(1, 8):
            await c.put(pod(f"p{i}"))  # seven events queued while the stream does not read
        sizes: list[int] = []
        names: list[str] = []
        while len(names) < 7:
            async with asyncio.timeout(waiting.TIMEOUT):
                batch = await live.__anext__()
            sizes.append(len(batch))
            names += [ev.object.metadata.name for ev in batch]
        assert sizes == [3, 3, 1]
        assert names == [f"p{i}" for i in range(1, 8)]
        # A replay from a version is sent in batches too; one at a time without them.
        replay = c.cacher.watch_batches(
            "", WatchOptions(resource_version=str(replay_from)), max_batch=4
        )
        assert [len(await replay.__anext__()) for _ in range(2)] == [4, 3]
        singles = c.cacher.watch("", WatchOptions(resource_version=str(replay_from)))
        assert await received(singles, 7) == [("ADDED", f"p{i}") for i in range(1, 8)]


async def test_a_batch_never_ends_inside_a_revision() -> None:
    """The writes of one etcd transaction share a revision: a client that resumes from the last
    resourceVersion it was sent must have been sent all of them, live or replayed."""
    async with Cluster() as c:
        before = await c.put(pod("p0"))
        live = c.cacher.watch_batches("", WatchOptions(resource_version=str(before)), max_batch=3)
        await c.put(pod("a"))
        together = await c.put_together(*(pod(f"t{i}") for i in range(4)))
        await c.put(pod("b"))
        batches = [await within(waiting.TIMEOUT, anext(live)) for _ in range(2)]
        assert [[ev.object.metadata.name for ev in batch] for batch in batches] == [
            ["a", "t0", "t1", "t2", "t3"],  # past 3, to the end of the revision
            ["b"],
        ]
        assert {ev.object.metadata.resource_version for ev in batches[0][1:]} == {str(together)}
        replay = c.cacher.watch_batches("", WatchOptions(resource_version=str(before)), max_batch=2)
        sizes = [len(await within(waiting.TIMEOUT, anext(replay))) for _ in range(2)]
        assert sizes == [5, 1]
        # Without batches, one event at a time all the same.
        singles = c.cacher.watch("", WatchOptions(resource_version=str(before)))
        assert [name for _, name in await received(singles, 6)] == [
            "a",
            "t0",
            "t1",
            "t2",
            "t3",
            "b",
        ]


class Pauses:
    """The pauses the cacher takes (its asyncio.sleep calls, shorter than a second: the bookmark
    timer's minute aside): a stream that gathers a batch pauses, one that sends at once does
    not. Counted rather than timed, so that a busy host cannot fail the check."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    def sleep(self, delay: float, *args: Any) -> Any:
        if delay < 1:
            self.seconds.append(delay)
        return asyncio.sleep(delay, *args)


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorder = Pauses()
    monkeypatch.setattr(cacher_module, "asyncio", recorder)
    return recorder.seconds


async def test_a_busy_stream_gathers_what_arrives_within_the_batch_interval(
    pauses: list[float],
) -> None:
    """(The interval long enough that a busy host's pauses between the writes of one batch stay
    well within it.)"""
    loop = asyncio.get_running_loop()
    interval = 0.8
    async with Cluster(batch_interval=interval) as c:
        await c.put(pod("p0"))
        live = c.cacher.watch_batches("", max_batch=100)
        assert [ev.object.metadata.name for ev in await live.__anext__()] == ["p0"]

        async def next_batch() -> tuple[list[str], float]:
            async with asyncio.timeout(waiting.TIMEOUT):
                batch = await live.__anext__()
            return [ev.object.metadata.name for ev in batch], loop.time()

        # Nothing sent for a while: the next event goes at once.
        pending = asyncio.create_task(next_batch())
        await c.put(pod("p1"))
        names, sent_at = await pending
        assert names == ["p1"] and pauses == []
        # Just sent: what arrives within the interval goes in one message, no sooner.
        pending = asyncio.create_task(next_batch())
        await c.put(pod("p2"))
        await asyncio.sleep(0.1)
        await c.put(pod("p3"))
        await c.put(pod("p4"))
        names, gathered_at = await pending
        assert names == ["p2", "p3", "p4"] and gathered_at - sent_at >= interval - 0.02
        assert len(pauses) == 1 and 0 < pauses[0] <= interval  # one pause, the interval's rest
        # Idle again for longer than the interval: at once.
        await asyncio.sleep(interval + 0.1)
        pending = asyncio.create_task(next_batch())
        await c.put(pod("p5"))
        names, sent_at = await pending
        assert names == ["p5"] and len(pauses) == 1


async def test_streams_without_batches_or_without_an_interval_never_wait(
    pauses: list[float],
) -> None:
    async with Cluster(batch_interval=0.4) as c:
        (singles,) = await reading(c.cacher.watch(""))  # one event per message: nothing to gather
        for i in range(3):
            await c.put(pod(f"s{i}"))
            assert await singles.received(1) == [("ADDED", f"s{i}")]
        assert pauses == []
    async with Cluster(batch_interval=0.0) as c:
        await c.put(pod("p0"))
        live = c.cacher.watch_batches("", max_batch=100)
        await live.__anext__()
        for i in range(1, 4):
            pending = asyncio.create_task(within(waiting.TIMEOUT, anext(live)))
            await c.put(pod(f"p{i}"))
            assert [ev.object.metadata.name for ev in await pending] == [f"p{i}"]
        assert pauses == []
