"""The apiserver over a real etcd: what clients rely on when they create, read, update and watch."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import grpc
import pytest

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import manifest
from podplane.client.clientset import Client
from tests.integration.api_objects import pod
from tests.support import EtcdProcess, new_namespace


async def test_create_defaults_and_get(client: Client) -> None:
    ns = await new_namespace(client)
    created = await client.pods.create(pod("web", ns))
    assert created.metadata.uid and created.metadata.creation_timestamp.endswith("Z")
    assert int(created.metadata.resource_version) > 0
    assert created.spec.restart_policy == "Always"
    assert created.spec.containers[0].image_pull_policy == "Always"  # untagged image
    assert created.status.phase == "Pending"
    got = await client.pods.get("web", ns)
    assert got == created


async def test_stored_in_etcd_under_registry_key(client: Client, etcd: EtcdProcess) -> None:
    ns = await new_namespace(client)
    created = await client.pods.create(pod("stored", ns))
    key = f"/registry/pods/{ns}/stored"
    assert etcd.etcdctl("get", key, "--keys-only").strip() == key
    info = json.loads(etcd.etcdctl("get", key, "-w", "json"))
    assert info["kvs"][0]["mod_revision"] == int(created.metadata.resource_version)
    stored = core_pb2.Pod()
    stored.ParseFromString(etcd.etcdctl_bytes("get", key, "--print-value-only").rstrip(b"\n"))
    created.metadata.resource_version = ""  # not stored: it is the key's mod_revision
    assert stored == created


async def test_duplicate_create_is_already_exists(client: Client) -> None:
    ns = await new_namespace(client)
    await client.pods.create(pod("dup", ns))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.create(pod("dup", ns))
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert err.value.details() == 'pods "dup" already exists'


async def test_update_with_stale_resource_version_is_aborted(client: Client) -> None:
    ns = await new_namespace(client)
    first = await client.pods.create(pod("cas", ns))
    fresh = core_pb2.Pod()
    fresh.CopyFrom(first)
    fresh.metadata.labels["v"] = "2"
    updated = await client.pods.update(fresh)
    assert int(updated.metadata.resource_version) > int(first.metadata.resource_version)
    first.metadata.labels["v"] = "stale"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.update(first)
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert "the object has been modified; please apply your changes to the latest version" in (
        err.value.details() or ""
    )
    assert (await client.pods.get("cas", ns)).metadata.labels["v"] == "2"


async def test_update_that_changes_nothing_is_not_written(client: Client) -> None:
    """Labels set in another order are the same labels: the update finds the stored bytes and
    writes nothing (the resourceVersion stays), as Kubernetes' GuaranteedUpdate does; kubectl
    then says `patched (no change)`."""
    ns = await new_namespace(client)
    keys = ["app", "tier", "patched", "json", "zone", "b"]
    created = pod("same", ns)
    for key in keys:
        created.metadata.labels[key] = "v"
    first = await client.pods.create(created)
    again = core_pb2.Pod()
    again.CopyFrom(first)
    again.metadata.ClearField("labels")
    for key in reversed(keys):
        again.metadata.labels[key] = "v"
    updated = await client.pods.update(again)
    assert updated.metadata.resource_version == first.metadata.resource_version


async def test_racing_writers_exactly_one_wins(client: Client) -> None:
    ns = await new_namespace(client)
    base = await client.pods.create(pod("race", ns))

    async def write(i: int) -> Any:
        mine = core_pb2.Pod()
        mine.CopyFrom(base)
        mine.metadata.labels["writer"] = str(i)
        try:
            return await client.pods.update(mine)
        except grpc.aio.AioRpcError as e:
            return e.code()

    results = await asyncio.gather(*(write(i) for i in range(8)))
    winners = [r for r in results if isinstance(r, core_pb2.Pod)]
    assert len(winners) == 1
    assert all(r == grpc.StatusCode.ABORTED for r in results if r not in winners)


async def test_invalid_pod_names_the_fields(client: Client) -> None:
    bad = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "Bad_Name"},
            "spec": {"containers": [{"name": "a"}], "restartPolicy": "Sometimes"},
        }
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.create(bad)  # type: ignore[arg-type]
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = err.value.details() or ""
    assert details.startswith('Pod "Bad_Name" is invalid: ')
    assert "metadata.name: Invalid value" in details
    assert "spec.containers[0].image: Required value" in details
    assert 'spec.restartPolicy: Unsupported value: "Sometimes"' in details


async def test_watch_from_resource_version_sees_every_later_change_in_order(client: Client) -> None:
    ns = await new_namespace(client)
    start = await client.pods.create(pod("w0", ns))
    events: list[tuple[str, str, str]] = []

    async def collect() -> None:
        async for ev in client.pods.watch(ns, resource_version=start.metadata.resource_version):
            events.append((ev.type, ev.object.metadata.name, ev.object.metadata.resource_version))
            if len(events) == 4:
                return

    watcher = asyncio.create_task(collect())
    a = await client.pods.create(pod("w1", ns))
    a.metadata.labels["x"] = "y"
    b = await client.pods.update(a)
    c = await client.pods.create(pod("w2", ns))
    d = await client.pods.delete("w1", ns)
    async with asyncio.timeout(10):
        await watcher
    assert events == [
        ("ADDED", "w1", a.metadata.resource_version),
        ("MODIFIED", "w1", b.metadata.resource_version),
        ("ADDED", "w2", c.metadata.resource_version),
        ("DELETED", "w1", d.metadata.resource_version),
    ]


async def test_watch_without_resource_version_starts_with_current_state(client: Client) -> None:
    ns = await new_namespace(client)
    await client.pods.create(pod("s1", ns))
    await client.pods.create(pod("s2", ns))
    stream = client.pods.watch(ns)
    seen = [
        (ev.type, ev.object.metadata.name)
        for ev in [await stream.__anext__(), await stream.__anext__()]
    ]
    stream.cancel()
    assert sorted(seen) == [("ADDED", "s1"), ("ADDED", "s2")]


async def test_bind_sets_node_and_watch_on_node_sees_pod_arrive(client: Client) -> None:
    ns = await new_namespace(client)
    created = await client.pods.create(pod("bindme", ns))
    stream = client.pods.watch(
        ns,
        resource_version=created.metadata.resource_version,
        field_selector="spec.nodeName=node-a",
    )
    await client.bind(ns, "bindme", "node-a", created.metadata.uid)
    bound = await client.pods.get("bindme", ns)
    assert bound.spec.node_name == "node-a"
    assert [(c.type, c.status) for c in bound.status.conditions] == [("PodScheduled", "True")]
    async with asyncio.timeout(10):
        ev = await stream.__anext__()
    assert (ev.type, ev.object.spec.node_name) == ("ADDED", "node-a")
    stream.cancel()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.bind(ns, "bindme", "node-b")
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert 'already assigned to node "node-a"' in (err.value.details() or "")


async def test_unscheduled_watch_sees_pod_leave_when_bound(client: Client) -> None:
    ns = await new_namespace(client)
    created = await client.pods.create(pod("leaver", ns))
    stream = client.pods.watch(
        ns, resource_version=created.metadata.resource_version, field_selector="spec.nodeName="
    )
    await client.bind(ns, "leaver", "node-a")
    async with asyncio.timeout(10):
        ev = await stream.__anext__()
    stream.cancel()
    assert (ev.type, ev.object.metadata.name) == ("DELETED", "leaver")


async def test_update_status_keeps_spec_and_update_keeps_status(client: Client) -> None:
    ns = await new_namespace(client)
    created = await client.pods.create(pod("st", ns))
    with_status = core_pb2.Pod()
    with_status.CopyFrom(created)
    with_status.status.phase = "Running"
    with_status.status.pod_ip = "10.244.1.5"
    with_status.spec.containers[0].image = "ignored:1"
    after = await client.pods.update_status(with_status)
    assert after.status.pod_ip == "10.244.1.5" and after.spec.containers[0].image == "busybox"
    relabel = core_pb2.Pod()
    relabel.CopyFrom(after)
    relabel.metadata.labels["tier"] = "web"
    relabel.status.phase = "Failed"
    final = await client.pods.update(relabel)
    assert final.status.phase == "Running" and final.metadata.labels["tier"] == "web"


async def test_list_with_selectors_and_pages(client: Client) -> None:
    ns = await new_namespace(client)
    for i in range(7):
        await client.pods.create(pod(f"p{i}", ns, app="web" if i % 2 else "db"))
    web = await client.pods.list(ns, label_selector="app=web")
    assert sorted(p.metadata.name for p in web.items) == ["p1", "p3", "p5"]
    not_db = await client.pods.list(ns, label_selector="app notin (db)")
    assert len(not_db.items) == 3
    names: list[str] = []
    token = ""
    rvs = set()
    while True:
        page = await client.pods.list(ns, limit=3, continue_token=token)
        names += [p.metadata.name for p in page.items]
        rvs.add(page.metadata.resource_version)
        token = page.metadata.continue_token
        if not token:
            break
        assert len(page.items) == 3
    assert names == [f"p{i}" for i in range(7)]
    assert len(rvs) == 1  # every page read at the first page's revision


async def test_bad_selector_is_invalid_argument(client: Client) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.list("default", field_selector="spec.bogus=1")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "field label not supported: spec.bogus" in (err.value.details() or "")


async def test_generate_name(client: Client) -> None:
    ns = await new_namespace(client)
    obj = pod("", ns)
    obj.metadata.generate_name = "job-"
    created = await client.pods.create(obj)
    assert created.metadata.name.startswith("job-") and len(created.metadata.name) == 9


async def test_delete_with_stale_precondition_keeps_the_object(client: Client) -> None:
    ns = await new_namespace(client)
    created = await client.pods.create(pod("keep", ns))
    created.metadata.labels["x"] = "1"
    await client.pods.update(created)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.delete("keep", ns, resource_version=created.metadata.resource_version)
    assert err.value.code() == grpc.StatusCode.ABORTED
    assert (await client.pods.get("keep", ns)).metadata.name == "keep"
    await client.pods.delete("keep", ns)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.pods.get("keep", ns)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert err.value.details() == 'pods "keep" not found'


async def test_watch_from_compacted_revision_is_out_of_range(
    client: Client, etcd: EtcdProcess
) -> None:
    ns = await new_namespace(client)
    first = await client.pods.create(pod("old", ns))
    for i in range(3):
        first.metadata.labels["n"] = str(i)
        first = await client.pods.update(first)
    etcd.etcdctl("compact", first.metadata.resource_version)
    stream = client.pods.watch(ns, resource_version="2")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async with asyncio.timeout(10):
            await stream.__anext__()
    assert err.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert "too old resource version: 2" in (err.value.details() or "")


async def test_nodes_are_cluster_scoped(client: Client, etcd: EtcdProcess) -> None:
    node = core_pb2.Node()
    node.metadata.name = "n-" + uuid.uuid4().hex[:6]
    node.status.capacity["cpu"] = "2"
    created = await client.nodes.create(node)
    assert created.metadata.namespace == ""
    key = f"/registry/nodes/{node.metadata.name}"
    assert etcd.etcdctl("get", key, "--keys-only").strip() == key
    created.status.capacity["cpu"] = "lots"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await client.nodes.update_status(created)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "status.capacity[cpu]: Invalid value" in (err.value.details() or "")
