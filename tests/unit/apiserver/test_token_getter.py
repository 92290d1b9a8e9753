"""The token authenticators' reads (Kubernetes' serviceaccount tokengetter): the watch cache,
else storage for what the cache does not have yet, None when neither has it."""

from __future__ import annotations

import grpc
import pytest

from apiserver import errors
from apiserver.admission.lookups import cached_else_stored
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2


def account(name: str, uid: str) -> core_pb2.ServiceAccount:
    return core_pb2.ServiceAccount(metadata=meta_pb2.ObjectMeta(name=name, namespace="ns", uid=uid))


class Cache:
    def __init__(self, *objects: core_pb2.ServiceAccount) -> None:
        self.objects = {(o.metadata.namespace, o.metadata.name): o for o in objects}

    def peek(self, namespace: str, name: str) -> core_pb2.ServiceAccount | None:
        return self.objects.get((namespace, name))


class Storage(Cache):
    def __init__(self, *objects: core_pb2.ServiceAccount, fail: bool = False) -> None:
        super().__init__(*objects)
        self.reads: list[tuple[str, str]] = []
        self.fail = fail

    async def get(self, namespace: str, name: str) -> core_pb2.ServiceAccount:
        self.reads.append((namespace, name))
        if self.fail:
            raise errors.APIError(grpc.StatusCode.INTERNAL, "InternalError", "etcd is gone")
        found = self.peek(namespace, name)
        if found is None:
            raise errors.APIError(
                grpc.StatusCode.NOT_FOUND, "NotFound", f'serviceaccounts "{name}" not found'
            )
        return found


async def test_the_cache_answers_what_it_has_and_storage_is_not_read() -> None:
    storage = Storage(account("robot", "new"))
    read = cached_else_stored(Cache(account("robot", "old")), storage)
    found = await read("ns", "robot")
    assert found is not None and found.metadata.uid == "old"
    assert storage.reads == []


async def test_an_account_the_cache_does_not_have_yet_is_read_from_storage() -> None:
    storage = Storage(account("robot", "new"))
    read = cached_else_stored(Cache(), storage)
    found = await read("ns", "robot")
    assert found is not None and found.metadata.uid == "new"
    assert storage.reads == [("ns", "robot")]


async def test_an_account_neither_has_is_none() -> None:
    assert await cached_else_stored(Cache(), Storage())("ns", "robot") is None


async def test_a_storage_failure_is_not_taken_for_a_deleted_account() -> None:
    with pytest.raises(errors.APIError) as failed:
        await cached_else_stored(Cache(), Storage(fail=True))("ns", "robot")
    assert failed.value.reason == "InternalError"
