"""Read-modify-write against the apiserver under optimistic concurrency: change a copy, update
with its resourceVersion, and on a conflict start again from the object as stored now (client-go's
retry.RetryOnConflict around a Get-modify-Update)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from podplane.apimachinery.meta import object_meta
from podplane.client.clientset import is_conflict, is_not_found

# Conflicts tolerated before giving up (client-go's retry.DefaultRetry makes 5 steps).
DEFAULT_ATTEMPTS = 5

T = TypeVar("T", bound=Message)
T_co = TypeVar("T_co", bound=Message, covariant=True)


class ConflictRetriesExhausted(RuntimeError):
    """The object changed under every one of the attempts."""


class _Getter(Protocol[T_co]):  # the get of a podplane.client.clientset.ResourceClient
    def get(self, name: str, namespace: str = ...) -> Awaitable[T_co]: ...


async def get_same(api: _Getter[T], obj: T) -> T | None:
    """`obj` as stored now; None if it is gone or replaced by another of the same name."""
    meta = object_meta(obj)
    try:
        fresh = await api.get(meta.name, meta.namespace)
    except Exception as e:
        if is_not_found(e):
            return None
        raise
    return fresh if object_meta(fresh).uid == meta.uid else None


async def update_on_conflict(
    current: T,
    mutate: Callable[[T], bool],
    update: Callable[[T], Awaitable[T]],
    refetch: Callable[[T], Awaitable[T | None]],
    *,
    what: str,
    attempts: int = DEFAULT_ATTEMPTS,
) -> T | None:
    """Applies `mutate` to a copy of `current` and updates it; on a conflict, again on what
    `refetch` returns. `mutate` returns False when the object needs no change: the object is then
    returned as it is. None when the object is gone (NOT_FOUND, or `refetch` found nothing).
    Errors other than a conflict propagate; `attempts` conflicts raise ConflictRetriesExhausted."""
    obj: T | None = current
    for _ in range(attempts):
        if obj is None:
            return None
        updated = type(obj)()
        updated.CopyFrom(obj)
        if not mutate(updated):
            return obj
        try:
            return await update(updated)
        except Exception as e:
            if is_not_found(e):
                return None
            if not is_conflict(e):
                raise
        obj = await refetch(obj)
    raise ConflictRetriesExhausted(f"{what} kept changing: gave up after {attempts} conflicts")
