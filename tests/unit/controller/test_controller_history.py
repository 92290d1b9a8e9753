"""ControllerRevision history (pkg/controller/history): the revision hash is Kubernetes' (FNV-32
of the data and the collision count, safe-encoded), a name taken by other data moves the
revision to the next collision count, the parent lists and claims its own revisions and
orphans, renumbers and deletes them, and a history limit lets the oldest dead ones go."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from controller.framework.hashing import fnv32, fnv32a, safe_encode
from controller.history import revision as rev
from controller.history.history import History
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.selectors import parse_labels
from podplane.client.informer import wait_for_sync
from podplane.client.informer_factory import SharedInformerFactory
from tests.unit.controller.daemonset_objects import NS, daemon_set
from tests.unit.controller.fake_api import FakeCluster

Revision = apps_pb2.ControllerRevision


def test_fnv_test_vectors() -> None:
    assert fnv32(b"") == fnv32a(b"") == 0x811C9DC5
    assert fnv32(b"a") == 0x050C5D7E
    assert fnv32a(b"a") == 0xE40C292C
    assert fnv32(b"foobar") == 0x31F0B262
    assert fnv32a(b"foobar") == 0xBF9CF968


def test_the_hash_covers_the_data_and_the_collision_count() -> None:
    r = Revision(data='{"a":1}')
    assert rev.hash_controller_revision(r, None) == safe_encode(str(fnv32(b'{"a":1}')))
    assert rev.hash_controller_revision(r, 3) == safe_encode(str(fnv32(b'{"a":1}3')))
    assert rev.hash_controller_revision(r, 0) != rev.hash_controller_revision(r, None)
    assert rev.controller_revision_name("x" * 300, "abc") == "x" * 223 + "-abc"


def test_a_new_revision_is_named_labelled_and_owned_by_its_parent() -> None:
    ds = daemon_set()
    ds.metadata.uid = "uid-1"
    r = rev.new_controller_revision(ds, resources.DAEMON_SET, {"app": "agent"}, '{"a":1}', 4, 2)
    hash_ = rev.hash_controller_revision(r, 2)
    assert r.metadata.name == f"agent-{hash_}"
    assert dict(r.metadata.labels) == {"app": "agent", rev.CONTROLLER_REVISION_HASH_LABEL: hash_}
    ref = r.metadata.owner_references[0]
    assert (ref.kind, ref.name, ref.uid, ref.controller) == ("DaemonSet", "agent", "uid-1", True)
    assert r.revision == 4


def named(name: str, number: int, created: str = "2030-01-01T00:00:00Z") -> Revision:
    r = Revision(data="{}", revision=number)
    r.metadata.name, r.metadata.creation_timestamp = name, created
    return r


def test_order_and_equality() -> None:
    revisions = [named("c", 2), named("b", 1, "2030-01-01T00:00:05Z"), named("a", 1)]
    assert [r.metadata.name for r in rev.sort_controller_revisions(revisions)] == ["a", "b", "c"]
    assert rev.next_revision(revisions) == 3 and rev.next_revision([]) == 1
    spaced = Revision(data='{ "spec" : 1 }')
    compact = Revision(data='{"spec":1}')
    assert rev.equal_revision(spaced, compact)
    compact.metadata.labels[rev.CONTROLLER_REVISION_HASH_LABEL] = "x"
    spaced.metadata.labels[rev.CONTROLLER_REVISION_HASH_LABEL] = "y"
    assert not rev.equal_revision(spaced, compact)
    assert rev.equal_revision(None, None) and not rev.equal_revision(None, compact)


@pytest.mark.parametrize(
    ("numbers", "limit", "live", "pruned"),
    [
        ([1, 2, 3, 4], 2, set(), [1, 2]),
        ([4, 3, 2, 1], 2, set(), [1, 2]),
        ([1, 2, 3, 4], 2, {1}, [2, 3]),
        ([1, 2, 3], 5, set(), []),
        ([1, 2, 3], 0, {2}, [1, 3]),
    ],
)
def test_revisions_to_prune(
    numbers: list[int], limit: int, live: set[int], pruned: list[int]
) -> None:
    old = [named(f"r{n}", n) for n in numbers]
    doomed = rev.revisions_to_prune(old, limit, lambda r: r.revision in live)
    assert [r.revision for r in doomed] == pruned


@contextlib.asynccontextmanager
async def history_of(cluster: FakeCluster) -> AsyncIterator[History]:
    """A History over the fake cluster, its informer synced (started after `cluster` is filled
    when used so)."""
    factory = SharedInformerFactory(cluster)  # type: ignore[arg-type]
    history = History(
        cluster.controllerrevisions,  # type: ignore[arg-type]
        factory.informer_for(resources.CONTROLLER_REVISION),
    )
    factory.start()
    try:
        await wait_for_sync(history.revisions)
        yield history
    finally:
        await factory.shutdown()


async def test_create_moves_past_a_name_other_data_holds() -> None:
    cluster = FakeCluster()
    async with history_of(cluster) as history:
        await create_past_a_squatter(cluster, history)


async def create_past_a_squatter(cluster: FakeCluster, history: History) -> None:
    ds = await cluster.daemonsets.create(daemon_set())
    wanted = rev.new_controller_revision(
        ds, resources.DAEMON_SET, {"app": "agent"}, '{"v":2}', 1, 0
    )
    squatter = Revision(data='{"v":1}', revision=1)
    squatter.metadata.name = rev.controller_revision_name(
        "agent", rev.hash_controller_revision(wanted, 0)
    )
    squatter.metadata.namespace = NS
    await cluster.controllerrevisions.create(squatter)
    created, count = await history.create_revision(ds, wanted, 0)
    assert count == 1
    assert created.metadata.name == f"agent-{rev.hash_controller_revision(wanted, 1)}"
    # The same data again is the revision already there, at the count it ended with.
    again, count = await history.create_revision(ds, wanted, 1)
    assert (again.metadata.name, count) == (created.metadata.name, 1)


async def test_list_claim_renumber_delete() -> None:
    cluster = FakeCluster()
    ds = await cluster.daemonsets.create(daemon_set())
    other = await cluster.daemonsets.create(daemon_set("other"))

    async def add(name: str, labels: dict[str, str], owner: apps_pb2.DaemonSet | None) -> None:
        r = Revision(data="{}", revision=1)
        r.metadata.name, r.metadata.namespace = name, NS
        r.metadata.labels.update(labels)
        if owner is not None:
            r.metadata.owner_references.add(
                api_version="apps/v1",
                kind="DaemonSet",
                name=owner.metadata.name,
                uid=owner.metadata.uid,
                controller=True,
            )
        await cluster.controllerrevisions.create(r)

    await add("mine", {"app": "agent"}, ds)
    await add("orphan", {"app": "agent"}, None)
    await add("theirs", {"app": "agent"}, other)
    await add("mine-relabelled", {"app": "moved"}, ds)
    async with history_of(cluster) as history:
        selector = parse_labels("app=agent")
        listed = history.list_revisions(ds, selector)
        assert sorted(r.metadata.name for r in listed) == ["mine", "orphan"]
        claimed = await history.claim_revisions(
            ds, resources.DAEMON_SET, selector, lambda: cluster.daemonsets.get("agent", NS)
        )
        assert sorted(r.metadata.name for r in claimed) == ["mine", "orphan"]
        store = cluster.controllerrevisions.store
        assert [ref.uid for ref in store[f"{NS}/orphan"].metadata.owner_references] == [
            ds.metadata.uid
        ]
        assert not store[f"{NS}/mine-relabelled"].metadata.owner_references  # released
        renumbered = await history.update_revision(store[f"{NS}/mine"], 7)
        assert renumbered.revision == 7 and store[f"{NS}/mine"].revision == 7
        await history.delete_revision(store[f"{NS}/orphan"])
        await history.delete_revision(renumbered)
        await history.delete_revision(renumbered)  # gone already: no error
        assert sorted(store) == [f"{NS}/mine-relabelled", f"{NS}/theirs"]
