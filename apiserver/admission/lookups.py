"""How admission plugins read a cluster-scoped kind they resolve names against (PriorityClasses,
RuntimeClasses): the watch cache first, as Kubernetes' plugins read their informer's lister, then
storage for a name the cache does not have yet (created a moment ago)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from apiserver import errors

T_co = TypeVar("T_co", covariant=True)


class ClusterCache(Protocol[T_co]):
    """The watch cache of a cluster-scoped kind (a Cacher)."""

    def peek(self, namespace: str, name: str) -> T_co | None: ...

    @property
    def objects(self) -> Mapping[bytes, T_co]: ...


class Reader(Protocol[T_co]):
    """Reads an object from storage (a Store); NotFound if there is none."""

    async def get(self, namespace: str, name: str) -> T_co: ...


class ClusterObjects(Protocol[T_co]):
    """What a plugin reads: one object by name, or every cached one."""

    async def lookup(self, name: str) -> T_co | None: ...

    def cached(self) -> Sequence[T_co]: ...


class CachedThenStored(ClusterObjects[T_co]):
    def __init__(self, cache: ClusterCache[T_co], reader: Reader[T_co]) -> None:
        self._cache = cache
        self._reader = reader

    async def lookup(self, name: str) -> T_co | None:
        cached = self._cache.peek("", name)
        if cached is not None:
            return cached
        try:
            return await self._reader.get("", name)
        except errors.APIError as e:
            if e.reason == "NotFound":
                return None
            raise

    def cached(self) -> Sequence[T_co]:
        return list(self._cache.objects.values())
