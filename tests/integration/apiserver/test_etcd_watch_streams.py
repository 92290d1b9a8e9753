"""etcd watches on one shared Watch stream, against the real etcd
(apiserver/storage/etcd_watch_stream.py): many watches ride one stream read by one thread, each
gets its own events and nobody else's; a watch canceled or compacted away ends alone, the others
go on."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator

import pytest

from apiserver.storage.etcd import CompactedError, EtcdClient, WatchEvent, prefix_end
from tests.support import EtcdProcess, thread_wake_ups

WATCHES = 20


def watch_threads() -> set[threading.Thread]:
    """The etcd watch streams' threads alive now (other modules' clients on this worker may end
    theirs meanwhile: threads are told apart, not counted)."""
    return {t for t in threading.enumerate() if t.name == "etcd-watch"}


async def next_events(stream: AsyncIterator[list[WatchEvent] | int]) -> list[WatchEvent]:
    """The next events of the watch (progress notifications skipped)."""
    while True:
        async with asyncio.timeout(10):
            item = await anext(stream)
        if isinstance(item, list):
            return item


async def test_many_watches_share_one_stream_and_each_gets_its_own_events(
    etcd: EtcdProcess,
) -> None:
    client = EtcdClient([etcd.endpoint])
    base = f"/shared-watch/{uuid.uuid4().hex[:8]}/".encode()
    threads = watch_threads()
    try:
        _, revision = await client.get(base)
        prefixes = [base + f"w{i}/".encode() for i in range(WATCHES)]
        streams = [client.watch(p, prefix_end(p), revision + 1) for p in prefixes]
        # Each watch's key written once (a watch from a revision gets what was written since,
        # whenever etcd registers it).
        reads = [asyncio.ensure_future(next_events(s)) for s in streams]
        for i, p in enumerate(prefixes):
            await client.put(p + b"key", f"value-{i}".encode())
        got = await asyncio.gather(*reads)
        assert [[(e.type, e.kv.key, e.kv.value) for e in events] for events in got] == [
            [("PUT", p + b"key", f"value-{i}".encode())] for i, p in enumerate(prefixes)
        ]
        assert len(watch_threads() - threads) == 1  # one stream for every watch of the client

        # One canceled (its generator closed): the others still get their events.
        await streams[0].aclose()  # type: ignore[attr-defined]
        await client.put(prefixes[0] + b"key", b"after")
        await client.put(prefixes[1] + b"key", b"after")
        (event,) = await next_events(streams[1])
        assert (event.kv.key, event.kv.value) == (prefixes[1] + b"key", b"after")
        for s in streams[1:]:
            await s.aclose()  # type: ignore[attr-defined]
    finally:
        await client.close()


async def test_a_compacted_watch_ends_alone(etcd: EtcdProcess) -> None:
    client = EtcdClient([etcd.endpoint])
    base = f"/compacted-watch/{uuid.uuid4().hex[:8]}/".encode()
    try:
        first = await client.put(base + b"old", b"1")
        now = await client.put(base + b"old", b"2")
        await client.compact(now)
        live = client.watch(base + b"live/", prefix_end(base + b"live/"), now + 1)
        live_read = asyncio.ensure_future(next_events(live))
        stale = client.watch(base, prefix_end(base), first)
        with pytest.raises(CompactedError):
            await next_events(stale)
        await client.put(base + b"live/key", b"still")
        (event,) = await live_read
        assert (event.kv.key, event.kv.value) == (base + b"live/key", b"still")
        await live.aclose()  # type: ignore[attr-defined]
    finally:
        await client.close()


async def test_the_stream_thread_sleeps_while_etcd_is_quiet_and_wakes_for_an_event(
    etcd: EtcdProcess,
) -> None:
    """A blocked synchronous gRPC read looked for its response ten times a second (grpc's
    MAXIMUM_WAIT_TIMEOUT); the thread now wakes when a response comes."""
    client = EtcdClient([etcd.endpoint])
    key = f"/quiet-watch/{uuid.uuid4().hex[:8]}".encode()
    threads = watch_threads()
    try:
        _, revision = await client.get(key)
        stream = client.watch(key, prefix_end(key), revision + 1)
        read = asyncio.ensure_future(next_events(stream))
        await client.put(key, b"first")  # the watch is registered once its first event comes
        await read
        (thread,) = watch_threads() - threads
        before = thread_wake_ups(thread)
        await asyncio.sleep(1.0)  # ten of the old looks
        assert thread_wake_ups(thread) - before <= 2  # etcd's own rare messages, if any came
        read = asyncio.ensure_future(next_events(stream))
        await client.put(key, b"second")
        (event,) = await read
        assert event.kv.value == b"second"
        await stream.aclose()  # type: ignore[attr-defined]
    finally:
        await client.close()
