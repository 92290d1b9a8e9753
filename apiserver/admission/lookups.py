"""How admission plugins read a cluster-scoped kind they resolve names against (PriorityClasses,
RuntimeClasses): the watch cache first, as Kubernetes' plugins read their informer's lister, then
storage for a name the cache does not have yet (created a moment ago)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from apiserver import errors

T_co = TypeVar("T_co", covariant=True)
M = TypeVar("M", bound=Message)


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


class NamespacedCache(Protocol[T_co]):
    def peek(self, namespace: str, name: str) -> T_co | None: ...


def cached_then_stored(
    cache: NamespacedCache[M], reader: Reader[M]
) -> Callable[[str, str], Awaitable[M]]:
    """An object by namespace and name as the watch cache has it, else as stored (created a
    moment ago); NotFound when there is none."""

    async def get(namespace: str, name: str) -> M:
        cached = cache.peek(namespace, name)
        return cached if cached is not None else await reader.get(namespace, name)

    return get


def cached_else_stored(
    cache: NamespacedCache[M], reader: Reader[M]
) -> Callable[[str, str], Awaitable[M | None]]:
    """As cached_then_stored, None when there is none: the service account token getter's
    reads (pkg/controller/serviceaccount/tokengetter.go: the lister, else a live GET)."""
    read = cached_then_stored(cache, reader)

    async def get(namespace: str, name: str) -> M | None:
        try:
            return await read(namespace, name)
        except errors.APIError as e:
            if e.reason == "NotFound":
                return None
            raise

    return get


def namespace_labels(
    cache: NamespacedCache[M], reader: Reader[M]
) -> Callable[[str], Awaitable[dict[str, str] | None]]:
    """A namespace's labels (PodSecurity's and the webhooks' namespaceSelector's); None when
    there is no such namespace."""
    get = cached_then_stored(cache, reader)

    async def labels(name: str) -> dict[str, str] | None:
        try:
            ns = await get("", name)
        except errors.APIError:
            return None
        return dict(ns.metadata.labels)  # type: ignore[attr-defined]

    return labels
