"""The update loop every update and patch runs (Kubernetes' GuaranteedUpdate): read the object,
apply the change to it, compare-and-swap; on a concurrent write, again from the latest, unless
the caller named the resourceVersion it read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from apiserver import errors
from apiserver.objects import T, object_meta
from apiserver.registry.generic import deletion
from apiserver.registry.generic.base import StoreBase
from apiserver.registry.generic.claims import CLAIMS_CONTENDED, MAX_CLAIM_ATTEMPTS, Claims
from apiserver.registry.generic.codec import parse_resource_version
from apiserver.storage.etcd import KeyValue


async def guaranteed_update(
    store: StoreBase[T],
    namespace: str,
    name: str,
    mutate: Callable[[T], Awaitable[T | None]],
    expected_rv: str = "",
    expected_uid: str = "",
    cached: T | None = None,
    dry_run: bool = False,
) -> T:
    """Reads, applies `mutate` (which returns the new object, admitted: admission runs on every
    try), and compare-and-swaps; retries on a concurrent write unless the caller named the
    resourceVersion it read.

    `cached`, the watch cache's copy, saves the read (Kubernetes' cachedExistingObject): when it
    is stale the compare-and-swap fails and returns the latest; a rejection or a no-op computed
    from it is confirmed against etcd first."""
    key = store.key(namespace, name)
    want_rv = parse_resource_version(expected_rv)
    kv = cached_kv(store, key, cached, want_rv, expected_uid)
    from_cache = kv is not None
    if kv is None:
        kv, _ = await store.guard(store.etcd.get(key))
    claim_attempts = 0
    while True:
        claims = Claims()
        try:
            current = await checked(store, kv, name, expected_uid, want_rv)
            updated = await mutate(current)
            removal = updated is not None and deletion.due_for_removal(store.resource, updated)
            if store.allocator is not None and updated is not None:
                claims = (
                    store.allocator.release(current)
                    if removal
                    else await store.guard(
                        store.allocator.allocate(updated, current, dry_run=dry_run)
                    )
                )
        except errors.APIError:
            if not from_cache:
                raise
            from_cache = False
            kv, _ = await store.guard(store.etcd.get(key))
            continue
        assert kv is not None  # else checked() raised NotFound
        data = b"" if updated is None or removal else await store.stored(updated)
        if updated is None or (not removal and data == kv.value):  # nothing to change
            if from_cache:  # as far as the cache knows: ask etcd
                from_cache = False
                kv, _ = await store.guard(store.etcd.get(key))
                continue
            return current
        if dry_run:
            if from_cache:  # what a write would have found: etcd's copy, not the cache's
                from_cache = False
                kv, _ = await store.guard(store.etcd.get(key))
                continue
            return updated
        if claims:
            ok, latest, rev, claim_taken = await store.write_claiming(
                key, None if removal else data, kv, claims
            )
            if claim_taken:  # a value it claimed was taken meanwhile: allocate again
                claim_attempts += 1
                if claim_attempts == MAX_CLAIM_ATTEMPTS:
                    raise errors.conflict(store.resource, name, CLAIMS_CONTENDED)
                from_cache = False
                continue
        elif removal:
            # The last finalizer of an object whose deletion is due went away: remove it.
            ok, latest, rev = await store.guard(store.etcd.compare_and_delete(key, kv.mod_revision))
        else:
            ok, latest, rev = await store.guard(
                store.etcd.compare_and_put(key, data, kv.mod_revision)
            )
        if ok:
            object_meta(updated).resource_version = str(rev)
            return updated
        if want_rv:
            raise errors.conflict(store.resource, name)
        kv, from_cache = latest, False


def cached_kv(
    store: StoreBase[T], key: bytes, cached: T | None, want_rv: int, expected_uid: str
) -> KeyValue | None:
    """The cached object as the stored key-value, unless it fails the caller's preconditions
    (which only etcd can settle)."""
    if cached is None or store.converter is not None:  # the cache's copy is not what is stored
        return None
    meta = object_meta(cached)
    rv = parse_resource_version(meta.resource_version)
    if not rv or (want_rv and rv != want_rv) or (expected_uid and meta.uid != expected_uid):
        return None
    return KeyValue(key, store.encode(cached), rv, 0)


async def checked(
    store: StoreBase[T], kv: KeyValue | None, name: str, expected_uid: str, want_rv: int
) -> T:
    """The stored object, after checking the caller's preconditions (UID, resourceVersion)
    against it."""
    if kv is None:
        raise errors.not_found(store.resource, name)
    current = await store.read(kv)
    uid = object_meta(current).uid
    if expected_uid and uid != expected_uid:
        raise errors.conflict(
            store.resource,
            name,
            f"Precondition failed: UID in precondition: {expected_uid}, UID in object meta: {uid}",
        )
    if want_rv and kv.mod_revision != want_rv:
        raise errors.conflict(store.resource, name)
    return current
