"""Informers: list, then watch from the list's resourceVersion, into a local cache; handlers are
told of every add, update and delete. A lost stream is resumed from the last seen resourceVersion
with back-off; a resourceVersion too old to resume from (OUT_OF_RANGE) causes a relist that
reconciles the cache with what is stored, so the cache never misses a change (client-go's
reflector). A process takes its informers from one SharedInformerFactory (informer_factory), so
that every consumer of a kind shares one watch and one cache."""

from __future__ import annotations

import asyncio
import builtins
import logging
import random
from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeAlias, TypeVar

import grpc
from google.protobuf.message import Message

from podplane.apimachinery.meta import object_meta
from podplane.apimachinery.resources import Resource
from podplane.client.clientset import ResourceClient, status_code

T = TypeVar("T", bound=Message)
log = logging.getLogger(__name__)

# What an Informer[T] calls its handlers and index functions with.
AddHandler: TypeAlias = Callable[[T], None]
UpdateHandler: TypeAlias = Callable[[T, T], None]
DeleteHandler: TypeAlias = Callable[[T], None]
IndexFunc: TypeAlias = Callable[[T], Iterable[str]]

# Objects by their namespace, an index several consumers of a shared informer ask for
# (client-go's cache.NamespaceIndex).
NAMESPACE_INDEX = "namespace"


def namespace_of(obj: Message) -> list[str]:
    """The NAMESPACE_INDEX function (client-go's MetaNamespaceIndexFunc)."""
    return [object_meta(obj).namespace]


def object_key(obj: Message) -> str:
    """namespace/name for namespaced objects, name otherwise (client-go's MetaNamespaceKeyFunc)."""
    meta = object_meta(obj)
    return f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name


class Informer(Generic[T]):
    def __init__(
        self,
        client: ResourceClient[T],
        *,
        namespace: str = "",
        label_selector: str = "",
        field_selector: str = "",
        name: str = "",
    ) -> None:
        self._client = client
        self._namespace = namespace
        self._label_selector = label_selector
        self._field_selector = field_selector
        self.name = name or client.resource.plural
        self._cache: dict[str, T] = {}
        self._indexers: dict[str, IndexFunc[T]] = {}
        # Per index: the keys under each value.
        self._indices: dict[str, dict[str, set[str]]] = {}
        # Per index, what a write updates: its function, the keys under each value and the
        # values each key is under (those the cached object gave, so that an update computes
        # them for the new object alone).
        self._index_maps: builtins.list[
            tuple[IndexFunc[T], dict[str, set[str]], dict[str, tuple[str, ...]]]
        ] = []
        # The consumers' handlers by event, in the order they were registered.
        self._on_add: builtins.list[AddHandler[T]] = []
        self._on_update: builtins.list[UpdateHandler[T]] = []
        self._on_delete: builtins.list[DeleteHandler[T]] = []
        self._synced = asyncio.Event()
        self.resource_version = ""

    @property
    def resource(self) -> Resource[T]:
        return self._client.resource

    # ------------------------------------------------------------------ cache reads
    def get(self, key: str) -> T | None:
        """The cached object; read-only: copy it before changing it."""
        return self._cache.get(key)

    def list(self) -> builtins.list[T]:
        return list(self._cache.values())

    def keys(self) -> builtins.list[str]:
        return list(self._cache)

    def add_index(self, name: str, func: IndexFunc[T]) -> None:
        """Indexes the cache by `func` under `name`. Consumers of a shared informer that ask for
        the same name share the index, so they must give the same function (client-go refuses a
        conflicting indexer too)."""
        known = self._indexers.get(name)
        if known is func:
            return
        if known is not None:
            raise ValueError(f"{self.name} informer: index {name!r} exists with another function")
        self._indexers[name] = func
        index: dict[str, set[str]] = {}
        indexed: dict[str, tuple[str, ...]] = {}
        self._indices[name] = index
        self._index_maps.append((func, index, indexed))
        for key, obj in self._cache.items():
            _refile(index, indexed, key, (), tuple(func(obj)))

    def by_index(self, name: str, value: str) -> builtins.list[T]:
        return [self._cache[k] for k in self._indices[name].get(value, ())]

    def by_namespace(self, namespace: str) -> builtins.list[T]:
        """The objects of one namespace (client-go's lister.Namespace(ns).List), from the
        namespace index, made the first time anyone asks."""
        if NAMESPACE_INDEX not in self._indexers:
            self.add_index(NAMESPACE_INDEX, namespace_of)
        return self.by_index(NAMESPACE_INDEX, namespace)

    def add_handler(
        self,
        on_add: AddHandler[T] | None = None,
        on_update: UpdateHandler[T] | None = None,
        on_delete: DeleteHandler[T] | None = None,
    ) -> None:
        """Registers a consumer's handlers; `on_add` is called at once for every object already
        cached (synthetic adds, as client-go gives a handler added late). The objects handlers get
        are the cache's own, shared with every consumer: read-only."""
        if on_add is not None:
            self._on_add.append(on_add)
        if on_update is not None:
            self._on_update.append(on_update)
        if on_delete is not None:
            self._on_delete.append(on_delete)
        if on_add is not None:
            for obj in self._cache.values():
                on_add(obj)

    @property
    def has_synced(self) -> bool:
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    # ------------------------------------------------------------------ cache writes
    def _index(self, key: str, new: T | None) -> None:
        """Files `key` under the values each index function gives for `new` (none for None);
        one computed for the new object alone, and an update that leaves the values as they
        were changes nothing (client-go's updateIndices)."""
        for func, index, indexed in self._index_maps:
            before = indexed.get(key, ())
            after = tuple(func(new)) if new is not None else ()
            if after != before:
                _refile(index, indexed, key, before, after)

    def _store(self, obj: T) -> None:
        key = object_key(obj)
        old = self._cache.get(key)
        self._cache[key] = obj
        self._index(key, obj)
        if old is None:
            self._notify(self._on_add, obj)
        else:
            self._notify(self._on_update, old, obj)

    def _remove(self, key: str) -> None:
        old = self._cache.pop(key, None)
        if old is None:
            return
        self._index(key, None)
        self._notify(self._on_delete, old)

    def _notify(self, handlers: Iterable[Callable[..., None]], *objs: T) -> None:
        """Calls each handler with `objs`; one that fails is logged, the others still run."""
        for handler in handlers:
            try:
                handler(*objs)
            except Exception:
                log.exception("%s informer handler failed", self.name)

    # ------------------------------------------------------------------ list and watch
    async def _relist(self, resource_version: str) -> None:
        items, rv = await self._client.list_all(
            self._namespace,
            label_selector=self._label_selector,
            field_selector=self._field_selector,
            resource_version=resource_version,
        )
        fresh: dict[str, T] = {object_key(o): o for o in items}
        for key in [k for k in self._cache if k not in fresh]:
            self._remove(key)
        for key, obj in fresh.items():
            old = self._cache.get(key)
            if (
                old is None
                or object_meta(old).resource_version != object_meta(obj).resource_version
            ):
                self._store(obj)
        self.resource_version = rv
        self._synced.set()

    async def _watch(self) -> None:
        stream = self._client.watch(
            self._namespace,
            resource_version=self.resource_version,
            label_selector=self._label_selector,
            field_selector=self._field_selector,
            allow_watch_bookmarks=True,
        )
        async for event in stream:
            obj = event.object
            if event.type == "BOOKMARK":
                self.resource_version = object_meta(obj).resource_version
                continue
            if event.type == "DELETED":
                self._remove(object_key(obj))
            else:
                self._store(obj)
            self.resource_version = object_meta(obj).resource_version

    async def run(self) -> None:
        """Runs until cancelled."""
        delay = 0.0
        need_list = True
        # The first list may come from the apiserver's watch cache ("0": any version), as the
        # reflector's does; a relist after "too old" reads the latest state ("") so that the cache
        # never goes back in time.
        list_version = "0"
        while True:
            try:
                if need_list:
                    await self._relist(list_version)
                    need_list = False
                await self._watch()
                delay = 0.0  # the server ended the stream cleanly: resume at once
            except grpc.aio.AioRpcError as e:
                code = status_code(e)
                if code == grpc.StatusCode.OUT_OF_RANGE:
                    log.info("%s: watch too old (%s); relisting", self.name, e.details())
                    need_list = True
                    list_version = ""
                    continue
                if need_list and list_version == "0" and _too_large(code, e.details()):
                    # 50000 pods read from the cache in one go are a 72 MB message, over gRPC's
                    # limit: list them in pages instead, read from etcd, as a client-go reflector
                    # pages a list it cannot have from the cache.
                    log.info("%s: the cache's list is too large; listing in pages", self.name)
                    list_version = ""
                    continue
                delay = min(max(delay * 2, 0.2), 10.0)
                log.warning(
                    "%s: list/watch failed: %s %s; retrying in %.1fs",
                    self.name,
                    code,
                    e.details(),
                    delay,
                )
                await asyncio.sleep(delay * (0.5 + random.random() / 2))


def _too_large(code: grpc.StatusCode | None, details: str | None) -> bool:
    """gRPC's own refusal of a message over its size limit (sent or received)."""
    return code == grpc.StatusCode.RESOURCE_EXHAUSTED and "larger than max" in (details or "")


def _refile(
    index: dict[str, set[str]],
    indexed: dict[str, tuple[str, ...]],
    key: str,
    before: tuple[str, ...],
    after: tuple[str, ...],
) -> None:
    """Moves `key` from the values `before` to the values `after` of one index."""
    for value in before:
        keys = index.get(value)
        if keys:
            keys.discard(key)
            if not keys:
                del index[value]
    for value in after:
        index.setdefault(value, set()).add(key)
    if after:
        indexed[key] = after
    else:
        indexed.pop(key, None)


class Syncable(Protocol):
    """An informer, whatever its kind, as one waits for its first list."""

    async def wait_synced(self) -> None: ...


async def wait_for_sync(*informers: Syncable, timeout: float | None = None) -> None:
    async with asyncio.timeout(timeout):
        await asyncio.gather(*(i.wait_synced() for i in informers))
