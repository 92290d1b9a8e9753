"""Watch: an etcd watch on a resource's key range turned into ADDED/MODIFIED/DELETED events that
respect label and field selectors. An object that starts matching a selector is ADDED, one that
stops matching is DELETED (as kube-apiserver's cacher does), so a kubelet watching
spec.nodeName=<node> sees a pod appear when it is bound."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from apiserver import errors
from apiserver.objects import T, WatchMessage, object_meta
from apiserver.registry.generic.codec import MAX_OBJECT_BYTES, parse_resource_version
from apiserver.registry.generic.options import DEFAULT_WATCH, WatchOptions
from apiserver.registry.generic.store import Store
from apiserver.storage.etcd import (
    CompactedError,
    EtcdRequestTooLarge,
    EtcdUnavailable,
    WatchEvent,
    prefix_end,
)


def _event(store: Store[T], type_: str, obj: T) -> WatchMessage[T]:
    ev = store.strategy.new_watch_event(type_)
    ev.object.CopyFrom(obj)
    return ev


def _bookmark(store: Store[T], revision: int) -> WatchMessage[T]:
    ev = store.strategy.new_watch_event("BOOKMARK")
    object_meta(ev.object).resource_version = str(revision)
    return ev


async def watch(
    store: Store[T],
    namespace: str,
    options: WatchOptions = DEFAULT_WATCH,
) -> AsyncIterator[WatchMessage[T]]:
    labels, fields = store.selectors(options.label_selector, options.field_selector)
    allow_bookmarks, timeout_seconds = options.allow_watch_bookmarks, options.timeout_seconds

    def matches(obj: T) -> bool:
        return labels.matches(object_meta(obj).labels) and fields.matches(
            store.strategy.fields(obj)
        )

    start = store.range_prefix(namespace)
    end = prefix_end(start)
    rv = parse_resource_version(options.resource_version)
    deadline = (
        (asyncio.get_running_loop().time() + timeout_seconds) if timeout_seconds > 0 else None
    )
    try:
        if rv == 0:
            # No resourceVersion: the current state first, then every change after it.
            kvs, _, read_rev = await store.etcd.range(start, end)
            for obj in await store.read_all(kvs):
                if matches(obj):
                    yield _event(store, "ADDED", obj)
            rv = read_rev
        stream = store.etcd.watch(start, end, rv + 1, progress_notify=allow_bookmarks)
        try:
            while True:
                remaining = (
                    None if deadline is None else deadline - asyncio.get_running_loop().time()
                )
                if remaining is not None and remaining <= 0:
                    return
                try:
                    async with asyncio.timeout(remaining):
                        batch = await stream.__anext__()
                except TimeoutError:
                    return
                if isinstance(batch, int):
                    if allow_bookmarks:
                        yield _bookmark(store, batch)
                    continue
                for ev in batch:
                    out = await _convert(store, ev, matches)
                    if out is not None:
                        yield out
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]
    except CompactedError as e:
        raise errors.too_old(rv, e.compact_revision) from None
    except EtcdUnavailable as e:
        raise errors.unavailable(str(e)) from None
    except EtcdRequestTooLarge:
        # A watch whose namespace is megabytes long, from a revision the cache no longer holds.
        raise errors.request_entity_too_large(MAX_OBJECT_BYTES) from None


async def _convert(
    store: Store[T], ev: WatchEvent, matches: Callable[[T], bool]
) -> WatchMessage[T] | None:
    old = await store.read(ev.prev) if ev.prev is not None else None
    old_matches = old is not None and matches(old)
    if ev.type == "DELETE":
        if not old_matches:
            return None
        assert old is not None
        object_meta(old).resource_version = str(ev.revision)
        return _event(store, "DELETED", old)
    new = await store.read(ev.kv)
    if matches(new):
        return _event(store, "MODIFIED" if old_matches else "ADDED", new)
    if old_matches:
        assert old is not None
        object_meta(old).resource_version = str(ev.revision)
        return _event(store, "DELETED", old)
    return None
