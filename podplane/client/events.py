"""Records Events about objects ("Scheduled", "FailedScheduling", "Pulled", "Started"), the way
kubectl describe shows them. A repeat of the same event bumps the count and lastTimestamp of the one
already written instead of writing another (client-go's EventCorrelator, simplified). Writes happen
in the background; a failed write is logged and dropped, as client-go does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from google.protobuf.message import Message

from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.meta import accessor, object_meta
from podplane.client.clientset import Client

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
    ) -> None:
        """With `max_queued`, events are written from a queue that holds that many, and dropped
        while it is full, as client-go's event broadcaster does (tools/events: maxQueuedEvents
        1000, DropIfChannelFull): a component making events faster than the apiserver takes
        them (a scheduler binding hundreds of pods a second) does not load it with a write per
        event. They are written one at a time, or, with `stream` (EventStream), new ones are
        created over an event stream up to MAX_STREAMED_IN_FLIGHT at a time: each still its own
        Create, but those queued together (STREAM_BATCH_INTERVAL) go in one stream message
        instead of a call each. Without `max_queued`, each event is written at once."""
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
        self._latest: dict[tuple[str, str, str, str], asyncio.Task[None]] = {}
        # The last second stamped on an event, and its text: formatted once a second.
        self._stamp: tuple[int, str] = (-1, "")

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
    ) -> None:
        """Writes in a task of its own, after the one still in flight for the same key;
        `done` is called once it has finished."""
        task = asyncio.get_running_loop().create_task(
            self._write(self._latest.get(key), key, obj, action)
        )
        self._latest[key] = task
        self._tasks.add(task)

        def finished(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if self._latest.get(key) is t:
                del self._latest[key]
            if done is not None:
                done()

        task.add_done_callback(finished)

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
                    await self._write(None, *item)
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
        """Stops writing queued events (those not written are dropped) and closes the event
        stream, if any."""
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
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
        event.last_timestamp = self._now()
        try:
            return await self._client.events.update(event)
        except Exception:  # noqa: BLE001 - gone or changed: write a new one instead
            return None

    def _now(self) -> str:
        """timeutil.now(), formatted once a second: a busy recorder stamps hundreds of events a
        second."""
        second = int(time.time())
        if second != self._stamp[0]:
            self._stamp = (second, timeutil.format_time(datetime.fromtimestamp(second, UTC)))
        return self._stamp[1]

    def _new_event(
        self, obj: Message, type_: str, reason: str, message: str, action: str
    ) -> core_pb2.Event:
        now = self._now()
        involved = accessor(obj)
        meta = involved.metadata
        return core_pb2.Event(
            metadata=meta_pb2.ObjectMeta(
                namespace=meta.namespace or "default",
                # Kubernetes names events <object>.<hex nanoseconds>.
                name=f"{meta.name}.{time.time_ns():x}",
            ),
            involved_object=core_pb2.ObjectReference(
                kind=involved.kind or "Pod",
                api_version=involved.api_version or "v1",
                namespace=meta.namespace,
                name=meta.name,
                uid=meta.uid,
                resource_version=meta.resource_version,
            ),
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
