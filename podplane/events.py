"""Records Events about objects ("Scheduled", "FailedScheduling", "Pulled", "Started"), the way kubectl describe shows them.
A repeat of the same event bumps the count and lastTimestamp of the one already written instead of
writing another (client-go's EventCorrelator, simplified). Writes happen in the background; a failed
write is logged and dropped, as client-go does."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from podplane import timeutil
from podplane.api.core.v1 import core_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.client import Client

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
_MAX_REMEMBERED = 4096


class EventRecorder:
    def __init__(self, client: Client, component: str, *, instance: str = "") -> None:
        self._client = client
        self.component = component
        self.instance = instance
        # (involved uid, type, reason, message) -> the Event last written for it.
        self._seen: OrderedDict[tuple[str, str, str, str], Any] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        # The latest write per key: a repeat waits for it, so that a burst counts up, not races.
        self._latest: dict[tuple[str, str, str, str], asyncio.Task[None]] = {}

    def record(self, obj: Any, type_: str, reason: str, message: str, *, action: str = "") -> None:
        key = (str(obj.metadata.uid), type_, reason, message)
        task = asyncio.get_running_loop().create_task(
            self._write(self._latest.get(key), key, obj, action))
        self._latest[key] = task
        self._tasks.add(task)

        def finished(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if self._latest.get(key) is t:
                del self._latest[key]
        task.add_done_callback(finished)

    async def flush(self, timeout: float = 5.0) -> None:
        """Waits for the events being written, up to `timeout` seconds."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _write(self, before: asyncio.Task[None] | None, key: tuple[str, str, str, str],
                     obj: Any, action: str) -> None:
        if before is not None:
            await asyncio.wait([before])
        _, type_, reason, message = key
        try:
            previous = self._seen.get(key)
            event = await self._bump(previous) if previous is not None else None
            if event is None:
                event = await self._client.events.create(
                    self._new_event(obj, type_, reason, message, action))
            self._seen[key] = event
            self._seen.move_to_end(key)
            while len(self._seen) > _MAX_REMEMBERED:
                self._seen.popitem(last=False)
        except Exception as e:  # noqa: BLE001 - events are best effort
            log.warning("could not record event %s %s for %s/%s: %s", type_, reason,
                        obj.metadata.namespace, obj.metadata.name, e)

    async def _bump(self, previous: Any) -> Any | None:
        event = core_pb2.Event()
        event.CopyFrom(previous)
        event.count = max(event.count, 1) + 1
        event.last_timestamp = timeutil.now()
        try:
            return await self._client.events.update(event)
        except Exception:  # noqa: BLE001 - gone or changed: write a new one instead
            return None

    def _new_event(self, obj: Any, type_: str, reason: str, message: str, action: str) -> Any:
        now = timeutil.now()
        meta = obj.metadata
        return core_pb2.Event(
            metadata=meta_pb2.ObjectMeta(
                namespace=meta.namespace or "default",
                # Kubernetes names events <object>.<hex nanoseconds>.
                name=f"{meta.name}.{time.time_ns():x}"),
            involved_object=core_pb2.ObjectReference(
                kind=obj.kind or "Pod", api_version=obj.api_version or "v1",
                namespace=meta.namespace, name=meta.name, uid=meta.uid,
                resource_version=meta.resource_version),
            reason=reason, message=message, type=type_,
            source=core_pb2.EventSource(component=self.component, host=self.instance),
            first_timestamp=now, last_timestamp=now, count=1,
            reporting_component=self.component, reporting_instance=self.instance,
            action=action)
