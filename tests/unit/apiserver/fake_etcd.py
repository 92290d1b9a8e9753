"""An in-memory etcd for the store's unit tests: the calls a create, update and delete make (get,
keys, create, the compare-and-swaps, the claiming transaction of a Service's), with etcd's
compare semantics. Every call yields to the event loop first, so that concurrent writers
interleave as they would over the network."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from apiserver.storage.etcd import ClaimingWrite, KeyValue, prefix_end


class FakeEtcd:
    def __init__(self) -> None:
        self.data: dict[bytes, KeyValue] = {}
        self.revision = 1
        self.transactions = 0

    async def _turn(self) -> None:
        await asyncio.sleep(0)

    def _mod(self, key: bytes) -> int:
        kv = self.data.get(key)
        return kv.mod_revision if kv else 0

    def _put(self, key: bytes, value: bytes) -> None:
        old = self.data.get(key)
        created = old.create_revision if old else self.revision
        self.data[key] = KeyValue(key, value, self.revision, created)

    async def get(self, key: bytes) -> tuple[KeyValue | None, int]:
        await self._turn()
        return self.data.get(key), self.revision

    async def keys(self, prefix: bytes) -> tuple[list[bytes], int]:
        await self._turn()
        return sorted(k for k in self.data if k.startswith(prefix)), self.revision

    async def range_counted(
        self,
        start: bytes,
        end: bytes,
        *,
        limit: int = 0,
        revision: int = 0,
        keys_only: bool = False,
    ) -> tuple[list[KeyValue], bool, int, int]:
        await self._turn()
        kvs = [kv for k, kv in sorted(self.data.items()) if start <= k < end]
        return kvs, False, self.revision, len(kvs)

    async def write_claiming(
        self,
        key: bytes,
        value: bytes | None,
        mod_revision: int,
        claim: Mapping[bytes, bytes],
        release: Sequence[bytes],
    ) -> ClaimingWrite:
        await self._turn()
        self.transactions += 1
        ok = self._mod(key) == mod_revision and not any(k in self.data for k in claim)
        if not ok:
            taken = frozenset(k for k in claim if k in self.data)
            return ClaimingWrite(False, self.revision, self.data.get(key), taken)
        self.revision += 1
        if value is None:
            self.data.pop(key, None)
        else:
            self._put(key, value)
        for k, v in claim.items():
            self._put(k, v)
        for k in release:
            self.data.pop(k, None)
        return ClaimingWrite(True, self.revision)

    async def write_if_unchanged(
        self, key: bytes, value: bytes | None, unchanged: Mapping[bytes, int]
    ) -> bool:
        await self._turn()
        if any(self._mod(k) != rev for k, rev in unchanged.items()):
            return False
        self.revision += 1
        if value is None:
            self.data.pop(key, None)
        else:
            self._put(key, value)
        return True

    def under(self, prefix: bytes) -> list[bytes]:
        end = prefix_end(prefix)
        return sorted(k for k in self.data if prefix <= k < end)

    async def create(self, key: bytes, value: bytes) -> int | None:
        await self._turn()
        if key in self.data:
            return None
        self.revision += 1
        self._put(key, value)
        return self.revision

    async def compare_and_put(
        self, key: bytes, value: bytes, mod_revision: int
    ) -> tuple[bool, KeyValue | None, int]:
        await self._turn()
        if self._mod(key) != mod_revision:
            return False, self.data.get(key), self.revision
        self.revision += 1
        self._put(key, value)
        return True, None, self.revision

    async def compare_and_delete(
        self, key: bytes, mod_revision: int
    ) -> tuple[bool, KeyValue | None, int]:
        await self._turn()
        if self._mod(key) != mod_revision:
            return False, self.data.get(key), self.revision
        self.revision += 1
        self.data.pop(key, None)
        return True, None, self.revision
