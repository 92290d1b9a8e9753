"""Read-modify-write under optimistic concurrency: a stale write is redone on the object as it
is now, a vanished object ends the attempt, and an object that never settles is reported."""

from __future__ import annotations

import grpc
import pytest

from podplane.api.core.v1 import core_pb2
from podplane.client.conflicts import ConflictRetriesExhausted, get_same, update_on_conflict


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="x")


class Store:
    """One pod with a resourceVersion; updates from an older version are refused (ABORTED)."""

    def __init__(self, uid: str = "u1") -> None:
        self.pod: core_pb2.Pod | None = core_pb2.Pod()
        self.pod.metadata.name, self.pod.metadata.namespace = "web", "default"
        self.pod.metadata.uid, self.pod.metadata.resource_version = uid, "1"
        self.updates = 0
        # Writes by "someone else" before each of our updates lands.
        self.interfering = 0

    async def get(self, name: str, namespace: str = "") -> core_pb2.Pod:
        if self.pod is None:
            raise rpc_error(grpc.StatusCode.NOT_FOUND)
        return self.pod

    async def update(self, pod: core_pb2.Pod) -> core_pb2.Pod:
        self.updates += 1
        if self.pod is None:
            raise rpc_error(grpc.StatusCode.NOT_FOUND)
        if self.interfering:
            self.interfering -= 1
            self._store(self.pod, label=f"other-{self.interfering}")
            raise rpc_error(grpc.StatusCode.ABORTED)
        if pod.metadata.resource_version != self.pod.metadata.resource_version:
            raise rpc_error(grpc.StatusCode.ABORTED)
        self._store(pod)
        return self.pod

    def _store(self, pod: core_pb2.Pod, label: str = "") -> None:
        stored = core_pb2.Pod()
        stored.CopyFrom(pod)
        if label:
            stored.metadata.labels[label] = "y"
        stored.metadata.resource_version = str(int(pod.metadata.resource_version) + 1)
        self.pod = stored


def add_label(pod: core_pb2.Pod) -> bool:
    if "mine" in pod.metadata.labels:
        return False
    pod.metadata.labels["mine"] = "y"
    return True


async def test_a_conflict_is_redone_on_the_stored_object_keeping_the_other_write() -> None:
    store = Store()
    store.interfering = 2
    assert store.pod is not None
    result = await update_on_conflict(
        store.pod, add_label, store.update, lambda p: get_same(store, p), what="pod web"
    )
    assert result is not None and dict(result.metadata.labels) == {
        "other-1": "y",
        "other-0": "y",
        "mine": "y",
    }
    assert store.updates == 3


async def test_no_change_needed_returns_the_object_without_writing() -> None:
    store = Store()
    assert store.pod is not None
    store.pod.metadata.labels["mine"] = "y"
    result = await update_on_conflict(
        store.pod, add_label, store.update, lambda p: get_same(store, p), what="pod web"
    )
    assert result is store.pod and store.updates == 0


@pytest.mark.parametrize("gone", ["deleted", "replaced"])
async def test_an_object_gone_or_replaced_meanwhile_ends_the_attempt(gone: str) -> None:
    store = Store()
    original = store.pod
    assert original is not None
    store.interfering = 1
    if gone == "deleted":

        async def refetch(p: core_pb2.Pod) -> core_pb2.Pod | None:
            store.pod = None
            return await get_same(store, p)
    else:

        async def refetch(p: core_pb2.Pod) -> core_pb2.Pod | None:
            replacement = Store(uid="u2").pod
            assert replacement is not None
            store.pod = replacement
            return await get_same(store, p)

    assert (
        await update_on_conflict(original, add_label, store.update, refetch, what="pod web") is None
    )


async def test_an_object_that_keeps_changing_is_reported_after_the_attempts() -> None:
    store = Store()
    store.interfering = 10
    assert store.pod is not None
    with pytest.raises(ConflictRetriesExhausted, match="pod web kept changing: gave up after 4"):
        await update_on_conflict(
            store.pod,
            add_label,
            store.update,
            lambda p: get_same(store, p),
            what="pod web",
            attempts=4,
        )
    assert store.updates == 4
