"""Events are kept out of the watch cache, as kube-apiserver keeps them by default: every read goes
to etcd, so what a client wrote is there on its next read, and watches and field selectors (podctl
describe's involvedObject.name) work as for any other resource. Real etcd, real apiserver."""

from __future__ import annotations

import asyncio

from apiserver.server import APIServer
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client.clientset import Client
from tests.support import new_namespace


def event(name: str, namespace: str, pod: str, reason: str = "Scheduled") -> core_pb2.Event:
    return core_pb2.Event(
        metadata=meta_pb2.ObjectMeta(name=name, namespace=namespace),
        involved_object=core_pb2.ObjectReference(kind="Pod", namespace=namespace, name=pod),
        reason=reason,
        message=f"{reason} {pod}",
        type="Normal",
        count=1,
    )


async def test_events_are_read_from_etcd_and_watched_like_any_resource(
    apiserver: APIServer, client: Client
) -> None:
    assert "events" not in apiserver.cachers and "pods" in apiserver.cachers
    ns = await new_namespace(client)
    seen: list[tuple[str, str, str]] = []

    async def collect() -> None:
        async for ev in client.events.watch(ns):
            seen.append((ev.type, ev.object.metadata.name, ev.object.reason))
            if len(seen) == 3:
                return

    watcher = asyncio.create_task(collect())
    first = await client.events.create(event("a.1", ns, "web-0"))
    # resourceVersion "0" (any version will do) would be the cache's copy for a cached resource.
    listed = await client.events.list(ns, resource_version="0")
    assert [e.metadata.name for e in listed.items] == ["a.1"]
    got = await client.events.get("a.1", ns)
    assert got.metadata.resource_version == first.metadata.resource_version
    await client.events.create(event("b.1", ns, "web-1", reason="Pulled"))
    first.count = 2
    updated = await client.events.update(first)
    assert updated.count == 2
    async with asyncio.timeout(10):
        await watcher
    assert seen == [
        ("ADDED", "a.1", "Scheduled"),
        ("ADDED", "b.1", "Pulled"),
        ("MODIFIED", "a.1", "Scheduled"),
    ]
    about_web_1 = await client.events.list(
        ns, field_selector="involvedObject.name=web-1", resource_version="0"
    )
    assert [e.metadata.name for e in about_web_1.items] == ["b.1"]
