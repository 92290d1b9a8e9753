"""The watch cache: one etcd watch per resource, fanned out to every client watch (kubernetes
staging/src/k8s.io/apiserver/pkg/storage/cacher/{cacher,watch_cache,cache_watcher}.go).

The cacher lists the resource once, then follows one etcd watch, keeping the current objects and a
sliding window of the latest events. A client watch gets its initial state (resourceVersion 0/"")
or the window's events after its resourceVersion, then every later event that passes its selectors,
through a bounded per-watcher buffer: a watcher that cannot keep up is closed (it resumes from the
last resourceVersion it received, or relists) and never stalls the others or grows memory.

A watch from a resourceVersion older than the window (for example a client resuming after the
apiserver restarted, whose cache starts at its list) gets OUT_OF_RANGE, "too old resource version"
(Kubernetes' 410 Expired, watch_cache.go getAllEventsSinceLocked), and its client relists. Serving
it from etcd's history instead gave each such watcher an etcd watch of its own for as long as it
lasted, every event decoded once more for it: after an apiserver restart, every informer's."""

from __future__ import annotations

import asyncio
import builtins
import collections
import logging
import math
import random
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Generic, Protocol, TypeVar

from google.protobuf.message import Message

from apiserver import errors
from apiserver.objects import ListMessage, T, WatchMessage, object_meta
from apiserver.registry.cache_watcher import (
    CLOSE,
    CachedEvent,
    Close,
    Watcher,
    by_revision,
    more_queued,
)
from apiserver.registry.generic.codec import parse_resource_version
from apiserver.registry.generic.options import (
    DEFAULT_LIST,
    DEFAULT_WATCH,
    ListOptions,
    WatchOptions,
)
from apiserver.registry.generic.store import Store
from apiserver.storage.etcd import CompactedError, WatchEvent, prefix_end

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 10_000  # events kept for watchers resuming from a recent resourceVersion
DEFAULT_WATCHER_BUFFER = 1_000  # events queued per watcher before it is cut off
DEFAULT_BOOKMARK_INTERVAL = 60.0  # kube-apiserver sends bookmarks about once a minute
# A busy watch stream that takes batches sends at most one message per this many seconds, carrying
# every event that arrived meanwhile. A gRPC message costs each end about 0.1-0.2 ms of Python CPU:
# with 10 ms, the scheduler load test's CPU per pod fell by a fifth (scheduler, apiserver and load
# generator alike: their watches) and its pace from 319-375 to 448-463 pods/s on the same slow VM.
# A stream idle for longer sends its next event at once: only a busy stream's events wait, and at
# most this long.
DEFAULT_BATCH_INTERVAL = 0.01


T_contra = TypeVar("T_contra", bound=Message, contravariant=True)


class CacheObserver(Protocol[T_contra]):
    """Follows the cache's objects in process (the RBAC authorizer's policy): every change as it
    is applied, and the whole set after a (re)list."""

    def changed(self, prev: T_contra | None, obj: T_contra | None) -> None: ...

    def replaced(self, objects: Iterable[T_contra]) -> None: ...


class Cacher(Generic[T]):
    def __init__(
        self,
        store: Store[T],
        *,
        capacity: int = DEFAULT_CAPACITY,
        watcher_buffer: int = DEFAULT_WATCHER_BUFFER,
        bookmark_interval: float = DEFAULT_BOOKMARK_INTERVAL,
        batch_interval: float = DEFAULT_BATCH_INTERVAL,
        trigger_field: str | None = None,
        on_watchers_changed: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.capacity = capacity
        self.watcher_buffer = watcher_buffer
        self.bookmark_interval = bookmark_interval
        self.batch_interval = batch_interval
        # A field (e.g. spec.nodeName for pods) whose exact value in a watcher's field selector
        # indexes it, so an event is offered only to the watchers it can concern.
        self.trigger_field = trigger_field
        self._on_watchers_changed = on_watchers_changed
        self.objects: dict[bytes, T] = {}
        self.window: collections.deque[CachedEvent[T]] = collections.deque()
        # Every event after this revision is in the window.
        self.window_start = 0
        # The revision the cache reflects.
        self.revision = 0
        self.ready = asyncio.Event()
        self._untriggered: set[Watcher[T]] = set()
        self._triggered: dict[str, set[Watcher[T]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.terminated_watchers = 0
        self.observers: builtins.list[CacheObserver[T]] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._reflect(), name=f"cacher-{self.resource_name}"),
            asyncio.create_task(self._bookmarks(), name="cacher-bookmarks"),
        ]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for w in list(self.watchers()):
            self._terminate(w)

    @property
    def resource_name(self) -> str:
        return self.store.resource.plural

    def watchers(self) -> builtins.list[Watcher[T]]:
        out = list(self._untriggered)
        for group in self._triggered.values():
            out.extend(group)
        return out

    # ------------------------------------------------------------------ following etcd
    async def _reflect(self) -> None:
        """List, then follow etcd from the list's revision; resume after an etcd outage, relist
        only when etcd compacted past the cache's revision."""
        delay = 0.0
        need_list = True
        start = self.store.range_prefix("")
        end = prefix_end(start)
        while True:
            try:
                if need_list:
                    await self._list(start, end)
                    need_list = False
                # Without the previous values: the cache has them (self.objects).
                stream = self.store.etcd.watch(
                    start, end, self.revision + 1, progress_notify=True, prev_kv=False
                )
                try:
                    async for batch in stream:
                        delay = 0.0
                        if isinstance(batch, int):
                            self.revision = max(self.revision, batch)
                            continue
                        for ev in batch:
                            await self._apply(ev)
                finally:
                    await stream.aclose()  # type: ignore[attr-defined]
            except asyncio.CancelledError:
                raise
            except CompactedError:
                log.warning(
                    "%s cache: etcd compacted past revision %d; relisting",
                    self.resource_name,
                    self.revision,
                )
                need_list = True
            except Exception as e:  # noqa: BLE001 - etcd lost: keep trying, watchers stay open
                delay = min(max(delay * 2, 0.2), 5.0)
                log.warning(
                    "%s cache: etcd watch failed (%s); retrying in %.1fs",
                    self.resource_name,
                    e,
                    delay,
                )
                await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def _list(self, start: bytes, end: bytes) -> None:
        objects: dict[bytes, T] = {}
        key = start
        revision = 0
        while True:
            kvs, more, read_rev = await self.store.etcd.range(
                key, end, limit=1000, revision=revision
            )
            revision = revision or read_rev
            for kv, obj in zip(kvs, await self.store.read_all(kvs), strict=True):
                objects[kv.key] = obj
            if not more or not kvs:
                break
            key = kvs[-1].key + b"\0"
        if self.ready.is_set():
            # The cache jumps: watchers cannot be told what they missed; they resume or relist.
            for w in self.watchers():
                self._terminate(w)
        self.objects = objects
        for o in self.observers:
            o.replaced(objects.values())
        self.window.clear()
        self.window_start = self.revision = revision
        self.ready.set()
        log.info("%s cache: %d objects at revision %d", self.resource_name, len(objects), revision)

    async def _apply(self, ev: WatchEvent) -> None:
        prev = self.objects.get(ev.kv.key)
        if ev.type == "DELETE":
            obj = None
            self.objects.pop(ev.kv.key, None)
            if prev is None:
                self.revision = max(self.revision, ev.revision)
                return
        else:
            obj = await self.store.read(ev.kv)
            self.objects[ev.kv.key] = obj
        for o in self.observers:
            o.changed(prev, obj)
        cached = CachedEvent(self.store, ev.revision, obj, prev)
        self.window.append(cached)
        if len(self.window) > self.capacity:
            self.window_start = self.window.popleft().revision
        self.revision = max(self.revision, ev.revision)
        self._dispatch(cached)

    def _candidates(self, ev: CachedEvent[T]) -> set[Watcher[T]]:
        if self.trigger_field is None:
            return self._untriggered
        out = set(self._untriggered)
        for which in ("obj", "prev"):
            values = ev.fields(which)
            if values is not None:
                out |= self._triggered.get(values.get(self.trigger_field, ""), set())
        return out

    def _dispatch(self, ev: CachedEvent[T]) -> None:
        for w in list(self._candidates(ev)):
            if ev.revision <= w.resource_version:
                continue
            msg = w.event_for(ev)
            if msg is not None and not w.offer(msg):
                log.warning(
                    "Forcing %s watcher close due to unresponsiveness: %d buffered events",
                    self.resource_name,
                    w.queue.qsize(),
                )
                self.terminated_watchers += 1
                self._terminate(w)

    # ------------------------------------------------------------------ watchers
    def _register(self, w: Watcher[T]) -> None:
        if w.trigger is None:
            self._untriggered.add(w)
        else:
            self._triggered.setdefault(w.trigger, set()).add(w)
        self._watchers_changed()

    def _unregister(self, w: Watcher[T]) -> None:
        if w.trigger is None:
            self._untriggered.discard(w)
        else:
            group = self._triggered.get(w.trigger)
            if group is not None:
                group.discard(w)
                if not group:
                    del self._triggered[w.trigger]
        self._watchers_changed()

    def _watchers_changed(self) -> None:
        if self._on_watchers_changed is not None:
            self._on_watchers_changed(
                len(self._untriggered) + sum(len(g) for g in self._triggered.values())
            )

    def _terminate(self, w: Watcher[T]) -> None:
        if w.closed:
            return
        w.closed = True
        self._unregister(w)
        if not w.queue.full():
            w.queue.put_nowait(CLOSE)

    async def _bookmarks(self) -> None:
        """Tells idle watchers how far the cache has got, so that they resume from there."""
        while True:
            await asyncio.sleep(self.bookmark_interval * (0.9 + random.random() / 5))
            revision = self.revision
            for w in self.watchers():
                if w.allow_bookmarks and revision > w.resource_version:
                    msg = self.store.strategy.new_watch_event("BOOKMARK")
                    object_meta(msg.object).resource_version = str(revision)
                    if w.offer(msg):
                        w.resource_version = revision

    # ------------------------------------------------------------------ serving
    async def wait_ready(self, timeout: float = 10.0) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self.ready.wait()
        except TimeoutError:
            raise errors.unavailable(
                f"the {self.resource_name} cache is not initialized yet"
            ) from None

    def peek(self, namespace: str, name: str) -> T | None:
        """The cached object, possibly stale, or None (not cached, or the cache not ready): a
        starting point for an update, which etcd then confirms."""
        if not self.ready.is_set():
            return None
        return self.objects.get(self.store.key(namespace, name))

    async def get(self, namespace: str, name: str) -> T:
        """resourceVersion=0 reads: the cached object, possibly slightly stale."""
        await self.wait_ready()
        obj = self.objects.get(self.store.key(namespace, name))
        if obj is None:
            raise errors.not_found(self.store.resource, name)
        return obj

    async def list(self, namespace: str, options: ListOptions = DEFAULT_LIST) -> ListMessage[T]:
        """resourceVersion=0 lists: every matching cached object, at the cache's revision. As
        kube-apiserver's cacher does, only the selectors apply to these (not `limit`)."""
        labels, fields = self.store.selectors(options.label_selector, options.field_selector)
        await self.wait_ready()
        prefix = self.store.range_prefix(namespace)
        out = self.store.strategy.new_list()
        for key in sorted(k for k in self.objects if k.startswith(prefix)):
            obj = self.objects[key]
            if labels.matches(object_meta(obj).labels) and fields.matches(
                self.store.strategy.fields(obj)
            ):
                out.items.append(obj)
        out.metadata.resource_version = str(self.revision)
        return out

    async def watch(
        self, namespace: str, options: WatchOptions = DEFAULT_WATCH
    ) -> AsyncIterator[WatchMessage[T]]:
        """The watch's events one by one (watch_batches of one)."""
        async for batch in self.watch_batches(namespace, options):
            for msg in batch:
                yield msg

    async def watch_batches(
        self, namespace: str, options: WatchOptions = DEFAULT_WATCH, *, max_batch: int = 1
    ) -> AsyncIterator[builtins.list[WatchMessage[T]]]:
        """The watch's events in order, in lists of up to `max_batch` (and MAX_BATCH_BYTES): what
        is already queued when the stream is ready to send, so a stream behind by many events
        catches up in few writes; and, when the stream sent a list less than `batch_interval`
        seconds ago, what arrives until that much time has passed."""
        labels, fields = self.store.selectors(options.label_selector, options.field_selector)
        rv = parse_resource_version(options.resource_version)
        await self.wait_ready()
        if rv and rv < self.window_start:
            raise errors.too_old(rv, self.window_start)
        trigger = fields.exact(self.trigger_field) if self.trigger_field is not None else None
        w = Watcher(
            namespace if self.store.resource.namespaced else "",
            labels,
            fields,
            self.store,
            buffer=self.watcher_buffer,
            allow_bookmarks=options.allow_watch_bookmarks,
            resource_version=rv,
            trigger=trigger,
        )
        # The initial events and the registration happen in one step of the event loop, so the
        # watcher sees every change exactly once: before it in `initial`, after it in its queue.
        initial = self._initial_events(w, rv)
        w.resource_version = max(rv, self.revision)
        self._register(w)
        loop = asyncio.get_running_loop()
        timeout_seconds = options.timeout_seconds
        deadline = loop.time() + timeout_seconds if timeout_seconds > 0 else None
        last_sent = -math.inf
        try:
            for batch in by_revision(initial, max_batch):
                yield batch
            while not w.closed:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    return
                msg: WatchMessage[T] | Close
                if w.carry is not None:
                    msg, w.carry = w.carry, None
                elif w.queue.empty():
                    # Only an idle stream waits; a busy one drains its buffer without wait_for,
                    # which costs a task per call.
                    if remaining is None:
                        msg = await w.queue.get()
                    else:
                        try:
                            async with asyncio.timeout(remaining):
                                msg = await w.queue.get()
                        except TimeoutError:
                            return
                else:
                    msg = w.queue.get_nowait()
                if msg is CLOSE or w.closed:
                    return
                # Sent a moment ago, and the batch has room (never so for batches of one): wait.
                linger = last_sent + self.batch_interval - loop.time()
                if linger > 0 and w.queue.qsize() < max_batch - 1:
                    await asyncio.sleep(linger)
                batch, ended = more_queued(w, [msg], max_batch)
                last_sent = loop.time()
                yield batch
                if ended:
                    return
        finally:
            if not w.closed:
                w.closed = True
                self._unregister(w)

    def _initial_events(self, w: Watcher[T], rv: int) -> builtins.list[WatchMessage[T]]:
        if rv == 0:
            out = []
            for obj in self.objects.values():
                if w.matches(obj, self.store.strategy.fields(obj)):
                    msg = self.store.strategy.new_watch_event("ADDED")
                    msg.object.CopyFrom(obj)
                    out.append(msg)
            return out
        return [
            msg
            for msg in (w.event_for(ev) for ev in self.window if ev.revision > rv)
            if msg is not None
        ]
