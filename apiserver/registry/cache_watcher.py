"""A client watch on the watch cache, and the events it is sent (kubernetes staging/src/k8s.io/
apiserver/pkg/storage/cacher/cache_watcher.go): each change is decoded once and shared by every
watcher; a watcher filters it through its selectors into ADDED, MODIFIED or DELETED, and queues it
in its own bounded buffer; what it is sent goes in batches that end where a revision does."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final, Generic

from apiserver.objects import T, WatchMessage, object_meta
from apiserver.registry.generic.store import Store
from podplane.apimachinery import selectors


@dataclass(eq=False)
class CachedEvent(Generic[T]):
    """One change of one object, decoded once and shared by every watcher."""

    store: Store[T]
    revision: int
    obj: T | None  # the object after the change; None for a deletion
    prev: T | None  # the object before it; None for a creation
    _fields: dict[str, Mapping[str, str] | None] = field(default_factory=dict)
    _messages: dict[str, WatchMessage[T]] = field(default_factory=dict)

    def fields(self, which: str) -> Mapping[str, str] | None:
        if which not in self._fields:
            obj = self.obj if which == "obj" else self.prev
            self._fields[which] = None if obj is None else self.store.strategy.fields(obj)
        return self._fields[which]

    def message(self, type_: str) -> WatchMessage[T]:
        """The watch event message of this type, built once: ADDED/MODIFIED carry the new object,
        DELETED the last state with the deletion's resourceVersion (as the cacher does)."""
        msg = self._messages.get(type_)
        if msg is None:
            msg = self.store.strategy.new_watch_event(type_)
            if type_ == "DELETED":
                assert self.prev is not None
                msg.object.CopyFrom(self.prev)
                object_meta(msg.object).resource_version = str(self.revision)
            else:
                assert self.obj is not None
                msg.object.CopyFrom(self.obj)
            self._messages[type_] = msg
        return msg


class Close(enum.Enum):
    CLOSE = enum.auto()


# Queued to end a watcher's stream.
CLOSE: Final = Close.CLOSE


class Watcher(Generic[T]):
    """A client watch on the cache: its filter and its bounded buffer."""

    def __init__(
        self,
        namespace: str,
        labels: selectors.LabelSelector,
        fields: selectors.FieldSelector,
        store: Store[T],
        *,
        buffer: int,
        allow_bookmarks: bool,
        resource_version: int,
        trigger: str | None,
    ) -> None:
        self.namespace = namespace
        self.labels = labels
        self.field_selector = fields
        self.store = store
        self.queue: asyncio.Queue[WatchMessage[T] | Close] = asyncio.Queue(maxsize=buffer)
        self.allow_bookmarks = allow_bookmarks
        # Events at or before this revision are already known to the client.
        self.resource_version = resource_version
        self.trigger = trigger
        self.closed = False
        # Taken from the queue but left for the next batch (it starts a new revision).
        self.carry: WatchMessage[T] | None = None

    def matches(self, obj: T | None, obj_fields: Mapping[str, str] | None) -> bool:
        if obj is None or obj_fields is None:
            return False
        meta = object_meta(obj)
        if self.namespace and meta.namespace != self.namespace:
            return False
        return self.labels.matches(meta.labels) and self.field_selector.matches(obj_fields)

    def event_for(self, ev: CachedEvent[T]) -> WatchMessage[T] | None:
        new_passes = self.matches(ev.obj, ev.fields("obj"))
        old_passes = self.matches(ev.prev, ev.fields("prev"))
        if new_passes:
            return ev.message("MODIFIED" if old_passes else "ADDED")
        if old_passes:
            return ev.message("DELETED")
        return None

    def offer(self, msg: WatchMessage[T] | Close) -> bool:
        """Queues a message; False if the buffer is full (the watcher is too slow)."""
        try:
            self.queue.put_nowait(msg)
            return True
        except asyncio.QueueFull:
            return False


# A batch of watch events stops growing past this size, well under clients' 64 MiB message limit.
MAX_BATCH_BYTES = 4 * 1024 * 1024


def _revision(msg: WatchMessage[T]) -> str:
    return str(object_meta(msg.object).resource_version)


def more_queued(
    w: Watcher[T], batch: list[WatchMessage[T]], max_batch: int
) -> tuple[list[WatchMessage[T]], bool]:
    """`batch` grown by what `w` already has queued (without waiting), up to max_batch events and
    MAX_BATCH_BYTES, past them only to finish the last event's revision; and whether the watch
    ended meanwhile.

    A batch never ends inside a revision: the writes etcd applied in one transaction (group
    commit) share it, and a client that resumes from the last resourceVersion it was sent must
    have been sent all of that revision."""
    if max_batch <= 1:
        return batch, False
    size = batch[0].ByteSize()
    while not w.queue.empty():
        msg = w.queue.get_nowait()
        if msg is CLOSE or w.closed:
            return batch, True
        if (len(batch) >= max_batch or size >= MAX_BATCH_BYTES) and _revision(msg) != _revision(
            batch[-1]
        ):
            w.carry = msg  # the first of the next batch
            break
        batch.append(msg)
        size += msg.ByteSize()
    return batch, False


def by_revision(msgs: list[WatchMessage[T]], max_batch: int) -> Iterator[list[WatchMessage[T]]]:
    """`msgs` in batches of about `max_batch`, each ending where a revision does (one by one
    when batches are of one: the client takes no others)."""
    if max_batch <= 1:
        yield from ([msg] for msg in msgs)
        return
    batch: list[WatchMessage[T]] = []
    for msg in msgs:
        if len(batch) >= max_batch and _revision(msg) != _revision(batch[-1]):
            yield batch
            batch = []
        batch.append(msg)
    if batch:
        yield batch
