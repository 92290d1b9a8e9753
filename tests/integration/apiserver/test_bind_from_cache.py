"""Binds and updates start from the watch cache's copy of the object, as Kubernetes'
GuaranteedUpdate starts from the cached object: one etcd transaction instead of a read and a
transaction, and a stale copy never decides the outcome."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from prometheus_client import REGISTRY

from podplane.client.clientset import Client
from tests.integration.api_objects import pod
from tests.support import new_namespace


def _etcd_pod_reads() -> float:
    return (
        REGISTRY.get_sample_value(
            "etcd_request_duration_seconds_count", {"operation": "get", "type": "pods"}
        )
        or 0.0
    )


async def _cached(client: Client, namespace: str, name: str, uid: str) -> None:
    """Waits until the watch cache (which serves resourceVersion=0 reads) holds this pod."""
    for _ in range(100):
        listed = await client.pods.list(namespace, resource_version="0")
        if any(p.metadata.name == name and p.metadata.uid == uid for p in listed.items):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never reached the watch cache")


async def test_a_bind_reads_the_pod_from_the_watch_cache_not_etcd(client: Client) -> None:
    ns = await new_namespace(client)
    created = await client.pods.create(pod("cached", ns))
    await _cached(client, ns, "cached", created.metadata.uid)
    reads = _etcd_pod_reads()
    await client.bind(ns, "cached", "node-a", created.metadata.uid)
    assert _etcd_pod_reads() == reads
    assert (await client.pods.get("cached", ns)).spec.node_name == "node-a"


async def test_a_stale_cached_copy_never_decides_a_bind(client: Client) -> None:
    ns = await new_namespace(client)
    old = await client.pods.create(pod("again", ns))
    await _cached(client, ns, "again", old.metadata.uid)
    await client.pods.delete("again", ns, grace_period_seconds=0)
    new = await client.pods.create(pod("again", ns))
    # At once, while the cache may still hold the old pod: the new uid is checked against etcd.
    await client.bind(ns, "again", "node-b", new.metadata.uid)
    bound = await client.pods.get("again", ns)
    assert (bound.metadata.uid, bound.spec.node_name) == (new.metadata.uid, "node-b")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.bind(ns, "again", "node-c", old.metadata.uid)
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert "Precondition failed: UID in precondition" in (err.value.details() or "")
    # Bound a moment ago, perhaps not yet in the cache: a second bind is still refused.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.bind(ns, "again", "node-d", new.metadata.uid)
    assert 'already assigned to node "node-b"' in (err.value.details() or "")


async def test_an_update_starts_from_the_cache_and_a_stale_version_is_still_a_conflict(
    client: Client,
) -> None:
    ns = await new_namespace(client)
    created = await client.pods.create(pod("upd", ns))
    await _cached(client, ns, "upd", created.metadata.uid)
    reads = _etcd_pod_reads()
    changed = type(created)()
    changed.CopyFrom(created)
    changed.metadata.labels["tier"] = "web"
    updated = await client.pods.update(changed)
    assert updated.metadata.labels["tier"] == "web" and _etcd_pod_reads() == reads
    stale = type(created)()
    stale.CopyFrom(created)  # still at the creation's resourceVersion
    stale.metadata.labels["tier"] = "db"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.update(stale)
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert (await client.pods.get("upd", ns)).metadata.labels["tier"] == "web"
