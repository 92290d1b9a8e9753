"""Group commit against the real etcd: writes issued together go in one etcd call, each a nested
transaction that succeeds or fails alone; they share a revision, and a watch from before them
sees every one. Then through the apiserver: pods created and bound together over streams are
each stored once, and a watch sees each change once."""

from __future__ import annotations

import asyncio
import uuid

from apiserver.server import APIServer
from apiserver.storage.etcd import EtcdClient, prefix_end
from podplane.client.clientset import Client
from podplane.client.streams import BindStream, PodCreateStream
from tests.integration.api_objects import pod
from tests.support import EtcdProcess, new_namespace


async def test_writes_issued_together_share_a_call_and_each_keeps_its_compare(
    etcd: EtcdProcess,
) -> None:
    client = EtcdClient([etcd.endpoint])
    prefix = f"/group-commit/{uuid.uuid4().hex[:8]}/".encode()
    try:
        assert await client.create(prefix + b"taken", b"old") is not None
        calls = client.group_commit.calls
        created = await asyncio.gather(
            *(client.create(prefix + f"k{i}".encode(), b"v") for i in range(20)),
            client.create(prefix + b"taken", b"new"),
        )
        assert client.group_commit.calls == calls + 1  # 21 writes, one etcd call
        revisions = set(created[:20])
        assert len(revisions) == 1 and created[20] is None  # one revision; "taken" refused alone
        (revision,) = revisions
        kv, _ = await client.get(prefix + b"k3")
        assert kv is not None and kv.mod_revision == revision

        # Compare-and-swap: the ones at the right revision succeed, the stale one fails alone
        # and reads the key as it is.
        kvs, _, _ = await client.range(prefix + b"k", prefix_end(prefix + b"k"))
        swaps = await asyncio.gather(
            *(client.compare_and_put(kv.key, b"w", kv.mod_revision) for kv in kvs[:5]),
            client.compare_and_put(kvs[5].key, b"w", kvs[5].mod_revision - 1),
        )
        assert [ok for ok, _, _ in swaps] == [True] * 5 + [False]
        current = swaps[5][1]
        assert current is not None and (current.key, current.value) == (kvs[5].key, b"v")

        # A watch from before the batch sees each of its writes.
        seen: list[bytes] = []
        stream = client.watch(prefix, prefix_end(prefix), revision)
        async for batch in stream:
            assert not isinstance(batch, int)
            seen.extend(ev.kv.key for ev in batch)
            if len(seen) >= 25:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        assert sorted(seen[:20]) == sorted(prefix + f"k{i}".encode() for i in range(20))
        assert {ev for ev in seen[20:]} == {kv.key for kv in kvs[:5]}
    finally:
        await client.close()


async def test_pods_created_and_bound_together_are_each_written_once(
    apiserver: APIServer, client: Client
) -> None:
    ns = await new_namespace(client)
    group = apiserver.etcd.group_commit
    calls, writes = group.calls, group.writes
    listed = await client.pods.list(ns)
    watch = client.pods.watch(ns, resource_version=listed.metadata.resource_version)
    creates, binds = PodCreateStream(client), BindStream(client)
    names = [f"p{i}" for i in range(40)]
    try:
        await asyncio.gather(*(creates.create(pod(n, ns)) for n in names))
        await asyncio.gather(*(binds.bind(ns, n, f"node-{i % 3}") for i, n in enumerate(names)))
        batched = group.calls - calls, group.writes - writes
        # A pod created after them all ends the reading: a watch sends in revision order, so
        # whatever was stored before it (a pod written twice too) comes first.
        await client.pods.create(pod("last", ns))
        events: list[tuple[str, str, str]] = []
        async for event in watch:
            if event.object.metadata.name == "last":
                break
            events.append((event.type, event.object.metadata.name, event.object.spec.node_name))
    finally:
        watch.cancel()
        await creates.close()
        await binds.close()
    # 80 writes, in fewer etcd calls (how many depends on how the streams' messages arrived).
    assert batched[1] >= 80 and batched[0] < batched[1], batched
    assert len(events) == 80, events
    assert sorted(e for e in events if e[0] == "ADDED") == sorted(("ADDED", n, "") for n in names)
    assert sorted(e for e in events if e[0] == "MODIFIED") == sorted(
        ("MODIFIED", n, f"node-{i % 3}") for i, n in enumerate(names)
    )
    stored, _ = await client.pods.list_all(ns)
    assert {p.metadata.name: p.spec.node_name for p in stored} == {
        n: f"node-{i % 3}" for i, n in enumerate(names)
    } | {"last": ""}
