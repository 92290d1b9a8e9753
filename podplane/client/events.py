"""Records Events about objects ("Scheduled", "FailedScheduling", "Pulled", "Started"), the way
kubectl describe shows them. A repeat of the same event bumps the count and lastTimestamp of the one
already written instead of writing another (client-go's EventCorrelator, simplified). Writes happen
in the background; a failed write is logged and dropped, as client-go does.

With `series=True` a recorder counts repeats as client-go's events.k8s.io recorder does
(tools/events, event_broadcaster.go), which kube-scheduler uses: the second occurrence turns the
event into an EventSeries written once, later ones only count in memory, and the counts reach the
apiserver every REFRESH_INTERVAL and when a series ends (FINISH_TIME unobserved). Which events are
one series and what each counts is podplane.client.event_series; the writing is here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
from typing import Protocol

from google.protobuf.message import Message

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.meta import accessor, object_meta
from podplane.client.clientset import Client
from podplane.client.event_series import (
    FINISH_TIME,
    REFRESH_INTERVAL,
    SeriesCache,
    SeriesKey,
    series_key,
)
from podplane.client.resource_client import is_not_found

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
_MAX_REMEMBERED = 4096
# Events a recorder with an event stream has in flight at most: as many as one stream message
# carries (podplane.client.request_stream.MAX_BATCH).
MAX_STREAMED_IN_FLIGHT = 256
# A busy recorder with an event stream starts the events queued meanwhile together, at most this
# often (seconds), so that they go in one stream message: a message costs its writer more than
# the scheduling decision an event reports, and an event is worth no hurry. After a quiet spell
# an event starts at once. Short enough that a batch (10 events at 500 a second) takes few of the
# apiserver's seats at once.
STREAM_BATCH_INTERVAL = 0.02


class EventCreator(Protocol):
    """What creates a recorder's new events when it has an event stream (EventStream)."""

    async def create(self, event: core_pb2.Event) -> None: ...

    async def close(self) -> None: ...


class EventRecorder:
    def __init__(
        self,
        client: Client,
        component: str,
        *,
        instance: str = "",
        max_queued: int | None = None,
        stream: Callable[[Client], EventCreator] | None = None,
        series: bool = False,
        clock: Callable[[], float] = time.time,
        refresh_interval: float = REFRESH_INTERVAL,
        finish_time: float = FINISH_TIME,
    ) -> None:
        """With `max_queued`, events are written from a queue that holds that many, and dropped
        while it is full, as client-go's event broadcaster does (tools/events: maxQueuedEvents
        1000, DropIfChannelFull): a component making events faster than the apiserver takes
        them (a scheduler binding hundreds of pods a second) does not load it with a write per
        event. They are written one at a time, or, with `stream` (EventStream), new ones are
        created over an event stream up to MAX_STREAMED_IN_FLIGHT at a time: each still its own
        Create, but those queued together (STREAM_BATCH_INTERVAL) go in one stream message
        instead of a call each. Without `max_queued`, each event is written at once.

        With `series`, events are made as the events.k8s.io recorder makes them (eventTime,
        action, reportingController and reportingInstance, no source, count or first and last
        timestamps; the apiserver refuses such an event without an `instance` or an action),
        and repeats counted as an EventSeries (see the module's docstring); `clock`
        (seconds since the epoch) stamps and ages them, and the series are written every
        `refresh_interval` s and once unobserved for `finish_time` s by a task the recorder owns
        until close()."""
        self._client = client
        self.component = component
        self.instance = instance
        self._max_queued = max_queued
        self._new_stream = stream
        self._stream: EventCreator | None = None
        self._stream_slots = asyncio.Semaphore(MAX_STREAMED_IN_FLIGHT)
        self._queue: asyncio.Queue[tuple[tuple[str, str, str, str], Message, str]] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.dropped = 0
        self._dropped_logged_at = -math.inf
        # (involved uid, type, reason, message) -> the Event last written for it.
        self._seen: OrderedDict[tuple[str, str, str, str], core_pb2.Event] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        # The latest write per key: a repeat waits for it, so that a burst counts up, not races.
        self._latest: dict[Hashable, asyncio.Task[None]] = {}
        self._series_on = series
        self._clock = clock
        self.refresh_interval = refresh_interval
        self.finish_time = finish_time
        self._series = SeriesCache()
        self._series_keeper: asyncio.Task[None] | None = None

    def record(
        self, obj: Message, type_: str, reason: str, message: str, *, action: str = ""
    ) -> None:
        """An event about `obj`, an API object of any kind."""
        key = (str(object_meta(obj).uid), type_, reason, message)
        if self._max_queued is not None:
            self._enqueue(key, obj, action)
            return
        self._start_write(key, obj, action)

    def _start_write(
        self,
        key: tuple[str, str, str, str],
        obj: Message,
        action: str,
        done: Callable[[], None] | None = None,
    ) -> asyncio.Task[None] | None:
        """Writes in a task of its own, after the one still in flight for the same key;
        `done` is called once it has finished. A repeat a series only counts writes nothing."""
        if not self._series_on:
            return self._chain(key, lambda before: self._write(before, key, obj, action), done)
        observed = self._observe(key, obj, action)
        if observed is None:
            if done is not None:
                done()
            return None
        series_key, event = observed
        return self._start_series_write(series_key, event, done)

    def _start_series_write(
        self, key: SeriesKey, event: core_pb2.Event, done: Callable[[], None] | None = None
    ) -> asyncio.Task[None]:
        return self._chain(key, lambda before: self._write_series(before, key, event), done)

    def _chain(
        self,
        key: Hashable,
        write: Callable[[asyncio.Task[None] | None], Coroutine[object, None, None]],
        done: Callable[[], None] | None = None,
    ) -> asyncio.Task[None]:
        """Runs `write` in a task of its own, given the task still in flight for `key`."""
        task = asyncio.get_running_loop().create_task(write(self._latest.get(key)))
        self._latest[key] = task
        self._tasks.add(task)

        def finished(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if self._latest.get(key) is t:
                del self._latest[key]
            if done is not None:
                done()

        task.add_done_callback(finished)
        return task

    async def flush(self, timeout: float = 5.0) -> None:
        """Waits for the events being written, up to `timeout` seconds."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        if self._queue is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._queue.join()

    def _enqueue(self, key: tuple[str, str, str, str], obj: Message, action: str) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue(self._max_queued or 0)
            self._writer = asyncio.get_running_loop().create_task(self._write_queued())
        try:
            self._queue.put_nowait((key, obj, action))
        except asyncio.QueueFull:
            self.dropped += 1
            now = time.monotonic()
            if now - self._dropped_logged_at >= 10:
                self._dropped_logged_at = now
                log.warning(
                    "event queue full (%d): dropping events; %d dropped so far",
                    self._max_queued,
                    self.dropped,
                )

    async def _write_queued(self) -> None:
        queue = self._queue
        assert queue is not None
        if self._new_stream is not None:
            self._stream = self._new_stream(self._client)
        loop = asyncio.get_running_loop()
        started = -math.inf  # when the last streamed batch started
        while True:
            item = await queue.get()
            if self._stream is None:
                try:
                    if not self._series_on:
                        await self._write(None, *item)
                    elif (task := self._start_write(*item)) is not None:
                        await asyncio.wait([task])
                finally:
                    queue.task_done()
                continue
            # Streamed: what is queued starts together (STREAM_BATCH_INTERVAL).
            wait = started + STREAM_BATCH_INTERVAL - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            started = loop.time()
            await self._start_streamed(item, queue)
            while not queue.empty():
                await self._start_streamed(queue.get_nowait(), queue)

    async def _start_streamed(
        self,
        item: tuple[tuple[str, str, str, str], Message, str],
        queue: asyncio.Queue[tuple[tuple[str, str, str, str], Message, str]],
    ) -> None:
        """Many in flight, a repeat of an event still in flight after it."""
        await self._stream_slots.acquire()

        def done() -> None:
            self._stream_slots.release()
            queue.task_done()

        self._start_write(*item, done=done)

    async def close(self) -> None:
        """Stops writing queued events (those not written are dropped) and the series' refresh,
        and closes the event stream, if any."""
        for task in (self._writer, self._series_keeper):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._stream is not None:
            await self._stream.close()

    async def _write(
        self,
        before: asyncio.Task[None] | None,
        key: tuple[str, str, str, str],
        obj: Message,
        action: str,
    ) -> None:
        if before is not None:
            await asyncio.wait([before])
        _, type_, reason, message = key
        try:
            previous = self._seen.get(key)
            event = await self._bump(previous) if previous is not None else None
            if event is None:
                event = self._new_event(obj, type_, reason, message, action)
                if self._stream is not None:
                    # Answered without the object: a repeat bumps what was sent, unconditionally
                    # (no resourceVersion), as Kubernetes lets events be updated.
                    await self._stream.create(event)
                else:
                    event = await self._client.events.create(event)
            self._seen[key] = event
            self._seen.move_to_end(key)
            while len(self._seen) > _MAX_REMEMBERED:
                self._seen.popitem(last=False)
        except Exception as e:  # noqa: BLE001 - events are best effort
            meta = object_meta(obj)
            log.warning(
                "could not record event %s %s for %s/%s: %s",
                type_,
                reason,
                meta.namespace,
                meta.name,
                e,
            )

    async def _bump(self, previous: core_pb2.Event) -> core_pb2.Event | None:
        event = core_pb2.Event()
        event.CopyFrom(previous)
        event.count = max(event.count, 1) + 1
        event.last_timestamp = timeutil.now()
        try:
            return await self._client.events.update(event)
        except Exception:  # noqa: BLE001 - gone or changed: write a new one instead
            return None

    def _new_event(
        self, obj: Message, type_: str, reason: str, message: str, action: str
    ) -> core_pb2.Event:
        now = timeutil.now()
        return core_pb2.Event(
            metadata=_event_meta(obj),
            involved_object=_reference(obj),
            reason=reason,
            message=message,
            type=type_,
            source=core_pb2.EventSource(component=self.component, host=self.instance),
            first_timestamp=now,
            last_timestamp=now,
            count=1,
            reporting_component=self.component,
            reporting_instance=self.instance,
            action=action,
        )

    # ------------------------------------------------------------------ series (events.k8s.io)
    def _observe(
        self, key: tuple[str, str, str, str], obj: Message, action: str
    ) -> tuple[SeriesKey, core_pb2.Event] | None:
        """One occurrence counted (recordToSink): the event to write, the first and the second
        time, or None when the series it repeats only counts it until the next refresh."""
        if self._series_keeper is None:
            self._series_keeper = asyncio.get_running_loop().create_task(self._keep_series())
        _, type_, reason, message = key
        ref = _reference(obj)
        key_of_series = series_key(type_, action, reason, ref)

        def new_event(event_time: str) -> core_pb2.Event:
            return core_pb2.Event(
                metadata=_event_meta(obj),
                involved_object=ref,
                reason=reason,
                message=message,
                type=type_,
                event_time=event_time,
                reporting_component=self.component,
                reporting_instance=self.instance,
                action=action,
            )

        event = self._series.observe(key_of_series, self._clock(), new_event)
        return None if event is None else (key_of_series, event)

    async def _write_series(
        self, before: asyncio.Task[None] | None, key: SeriesKey, event: core_pb2.Event
    ) -> None:
        """Creates a new event (over the stream, if any); writes a series over the event it
        counts, unconditionally, or creates it again when it is gone (recordEvent)."""
        if before is not None:
            await asyncio.wait([before])
        try:
            if not event.HasField("series"):
                if self._stream is not None:
                    await self._stream.create(event)
                else:
                    await self._client.events.create(event)
            else:
                try:
                    await self._client.events.update(event)
                except Exception as e:
                    if not is_not_found(e):
                        raise
                    await self._client.events.create(event)
            self._series.written(key, event)
        except Exception as e:  # noqa: BLE001 - events are best effort
            ref = event.involved_object
            log.warning(
                "could not record event %s %s for %s/%s: %s",
                event.type,
                event.reason,
                ref.namespace,
                ref.name,
                e,
            )

    async def refresh_series(self) -> None:
        """Writes the series observed since they were last written (refreshExistingEventSeries).
        Kubernetes rewrites every series it holds each refreshTime; one unobserved since its
        last write would be written with the count and lastObservedTime the stored event already
        has, so a reader (kubectl get events, a watch) sees the same event either way: only its
        resourceVersion would move (in Kubernetes also the event's --event-ttl lease, which
        podplane's apiserver does not have)."""
        await self._write_changed(self._series.changed())

    async def finish_series(self) -> None:
        """Forgets the events unobserved for `finish_time`, a series written a last time if it
        changed since its last write (finishSeries): the next occurrence starts a new event."""
        ended = self._clock() - self.finish_time
        gone = self._series.ended(ended)
        await self._write_changed(self._series.changed(gone))
        self._series.forget(gone, ended)  # those not observed again meanwhile

    async def _write_changed(self, keys: list[SeriesKey]) -> None:
        writes = [self._start_series_write(key, self._series.event(key)) for key in keys]
        if writes:
            await asyncio.wait(writes)

    async def _keep_series(self) -> None:
        """refresh_series every `refresh_interval` and finish_series every `finish_time`, as
        client-go's two wait.Until loops."""
        loop = asyncio.get_running_loop()
        next_refresh = loop.time() + self.refresh_interval
        next_finish = loop.time() + self.finish_time
        while True:
            await asyncio.sleep(max(0.0, min(next_refresh, next_finish) - loop.time()))
            now = loop.time()
            if now >= next_finish:
                next_finish = now + self.finish_time
                await self.finish_series()
            if now >= next_refresh:
                next_refresh = now + self.refresh_interval
                await self.refresh_series()


def _event_meta(obj: Message) -> meta_pb2.ObjectMeta:
    meta = object_meta(obj)
    return meta_pb2.ObjectMeta(
        namespace=meta.namespace or "default",
        # Kubernetes names events <object>.<hex nanoseconds>.
        name=f"{meta.name}.{time.time_ns():x}",
    )


def _reference(obj: Message) -> core_pb2.ObjectReference:
    """The object as an event's involvedObject (regarding), as reference.GetReference makes it."""
    involved = accessor(obj)
    meta = involved.metadata
    return core_pb2.ObjectReference(
        kind=involved.kind or "Pod",
        api_version=involved.api_version or "v1",
        namespace=meta.namespace,
        name=meta.name,
        uid=meta.uid,
        resource_version=meta.resource_version,
    )
