"""Reads of a resource the apiserver keeps no watch cache for: every Get, List and Watch goes to
etcd. kube-apiserver does this for events by default: they are written once per thing that happens
(a Scheduled event per pod bound) and read rarely, so following them in a cache costs every write a
trip through the cache's etcd watch for watchers that mostly do not exist."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from typing import Generic

from apiserver.objects import ListMessage, T, WatchMessage
from apiserver.registry import watch as etcd_watch
from apiserver.registry.generic.options import (
    DEFAULT_LIST,
    DEFAULT_WATCH,
    ListOptions,
    WatchOptions,
)
from apiserver.registry.generic.store import Store

# kube-apiserver's default (its --watch-cache-sizes leaves events at 0).
UNCACHED_RESOURCES = frozenset({"events"})


class Uncached(Generic[T]):
    """What the servicers read through in place of a Cacher."""

    def __init__(self, store: Store[T]) -> None:
        self.store = store

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def wait_ready(self, timeout: float = 10.0) -> None:
        pass

    def peek(self, namespace: str, name: str) -> T | None:
        """Nothing cached: an update reads the object from etcd."""
        return None

    async def get(self, namespace: str, name: str) -> T:
        return await self.store.get(namespace, name)

    async def list(self, namespace: str, options: ListOptions = DEFAULT_LIST) -> ListMessage[T]:
        """resourceVersion=0 lists, from etcd: as the watch cache's, they take only the
        selectors."""
        return await self.store.list(namespace, options.selecting())

    async def watch_batches(
        self, namespace: str, options: WatchOptions = DEFAULT_WATCH, *, max_batch: int = 1
    ) -> AsyncIterator[builtins.list[WatchMessage[T]]]:
        """An etcd watch of its own for each client watch, one event per batch."""
        async for msg in etcd_watch.watch(self.store, namespace, options):
            yield [msg]
