"""The scheduling queue (kubernetes pkg/scheduler/backend/queue PriorityQueue).

Pending pods wait in one of three places: the active queue (highest priority, then oldest, first),
the back-off queue (a pod that failed waits 1 s, doubling per attempt up to 10 s) and the
unschedulable pods (waiting for the cluster to change in a way that may help them: a plugin that
rejected the pod registered for the event and its queueing hint says yes; or for five minutes to
pass). A pod popped for scheduling is in flight until the scheduler requeues it or calls done();
the events that came meanwhile are kept, and a pod that fails goes to back-off rather than among
the unschedulable pods if one of them may have helped it (kubernetes inFlightEvents). A pod the
PreEnqueue plugins keep out of the active queue (one with scheduling gates) waits among the gated
pods, never tried, until an update of the pod lets it in."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from podplane.api.core.v1 import core_pb2
from scheduler.backend.queue.nominator import Nominator
from scheduler.backend.queue.queued_pod_info import QueuedPodInfo, pod_key
from scheduler.backend.queue.unschedulable_pods import UnschedulablePods
from scheduler.framework.cluster_events import PluginHint, QueueingHint
from scheduler.framework.types import pod_priority

__all__ = [
    "DEFAULT_INITIAL_BACKOFF",
    "DEFAULT_MAX_BACKOFF",
    "DEFAULT_MAX_UNSCHEDULABLE_DURATION",
    "QueueClosed",
    "QueuedPodInfo",
    "SchedulingQueue",
    "pod_key",
]

log = logging.getLogger(__name__)

DEFAULT_INITIAL_BACKOFF = 1.0
DEFAULT_MAX_BACKOFF = 10.0
# podMaxInUnschedulablePodsDuration (kubernetes DefaultPodMaxInUnschedulablePodsDuration).
DEFAULT_MAX_UNSCHEDULABLE_DURATION = 300.0


class QueueClosed(Exception):
    pass


class SchedulingQueue:
    def __init__(
        self,
        *,
        initial_backoff: float = DEFAULT_INITIAL_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        max_unschedulable_duration: float = DEFAULT_MAX_UNSCHEDULABLE_DURATION,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_unschedulable_duration = max_unschedulable_duration
        self._clock = clock
        self._active: dict[str, QueuedPodInfo] = {}
        self._heap: list[tuple[int, float, int, str]] = []
        self._seq = itertools.count()
        self._backoff: dict[str, QueuedPodInfo] = {}
        self._unschedulable = UnschedulablePods()
        self._gated: dict[str, QueuedPodInfo] = {}
        # Whether a pod may enter the active queue (the framework's PreEnqueue plugins); None
        # lets every pod in.
        self.pre_enqueue: Callable[[core_pb2.Pod], bool] | None = None
        # Popped pods by key, with the number of events recorded when they were popped.
        self._in_flight: dict[str, int] = {}
        self._updated_in_flight: set[str] = set()
        # The events of interest since the oldest pod in flight was popped, numbered.
        self._in_flight_events: deque[tuple[int, str, object, object]] = deque()
        self._events_recorded = 0
        # Event -> the plugins registered for it and their hints (Framework.queueing_hints).
        # None: no framework told the queue, and every event may help every pod.
        self.queueing_hints: Mapping[str, Sequence[PluginHint]] | None = None
        self._wakeup = asyncio.Event()
        self._closed = False
        # The pods nominated to nodes by preemption, kept up to date by add/update/delete.
        self.nominator = Nominator()

    # ------------------------------------------------------------------ informer events
    def add(self, pod: core_pb2.Pod) -> None:
        """A new pending pod."""
        key = pod_key(pod)
        self.nominator.add_nominated_pod(pod, None)
        if key in self._in_flight:
            self._updated_in_flight.add(key)
            return
        pinfo = (
            self._active.get(key)
            or self._backoff.pop(key, None)
            or self._unschedulable.pop(key)
            or self._gated.pop(key, None)
            or QueuedPodInfo(pod, self._clock())
        )
        pinfo.pod = pod
        self._push_active(pinfo)

    def update(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        key = pod_key(new)
        changed = _spec_or_meta_changed(old, new)
        self.nominator.update_nominated_pod(old, new)
        if key in self._active:
            pinfo = self._active[key]
            pinfo.pod = new
            if pod_priority(old) != pod_priority(new):
                self._push_active(pinfo)
        elif key in self._backoff:
            self._backoff[key].pod = new
        elif key in self._gated:
            pinfo = self._gated[key]
            pinfo.pod = new
            if changed:  # PreEnqueue again: the last gate may be gone
                del self._gated[key]
                self._push_active(pinfo)
        elif (parked := self._unschedulable.get(key)) is not None:
            parked.pod = new
            if changed:
                self._unschedulable.pop(key)
                self._requeue_after_move(parked)
        elif key in self._in_flight:
            if changed:
                self._updated_in_flight.add(key)
        else:
            self.add(new)

    def delete(self, pod: core_pb2.Pod) -> None:
        key = pod_key(pod)
        self.nominator.delete_nominated_pod_if_exists(pod)
        self._active.pop(key, None)
        self._backoff.pop(key, None)
        self._unschedulable.pop(key)
        self._gated.pop(key, None)
        self._in_flight.pop(key, None)
        self._updated_in_flight.discard(key)
        self._forget_in_flight_events()

    def move_all_to_active_or_backoff(
        self, event: str, old: object = None, new: object = None
    ) -> None:
        """The cluster changed (`event`, the object `old` before and `new` after, None for one
        added or deleted): each unschedulable pod a plugin that registered for the event rejected
        gets another try, after its back-off, if that plugin's hint says the change may help it
        (kubernetes MoveAllToActiveOrBackoffQueue with queueing hints). The event is kept for the
        pods in flight."""
        registered = self._registered(event)
        if registered is not None and not registered:
            return  # no plugin cares: nothing to wake, nothing to remember
        if self._in_flight:
            self._events_recorded += 1
            self._in_flight_events.append((self._events_recorded, event, old, new))
        candidates = (
            self._unschedulable.rejected_by_any(h.plugin for h in registered)
            if registered is not None
            else [pinfo for _, pinfo in self._unschedulable.items()]
        )
        moved = 0
        for pinfo in candidates:
            if self._worth_requeuing(pinfo, event, old, new):
                self._unschedulable.pop(pinfo.key)
                self._requeue_after_move(pinfo)
                moved += 1
        if moved:
            log.debug("%s: retrying %d unschedulable pod(s)", event, moved)

    def _registered(self, event: str) -> Sequence[PluginHint] | None:
        """The plugins registered for `event`, with their hints; None when the queue has no
        hints (every event may help every pod)."""
        if self.queueing_hints is None:
            return None
        return self.queueing_hints.get(event, ())

    def _worth_requeuing(self, pinfo: QueuedPodInfo, event: str, old: object, new: object) -> bool:
        """Whether `event` may make the pod schedulable (kubernetes isPodWorthRequeuing): a pod
        no plugin rejected (an error) is worth it on any event; else a plugin that rejected it
        registered for the event with no hint, or with one that answers QUEUE (or fails)."""
        if not pinfo.unschedulable_plugins:
            return True
        registered = self._registered(event)
        if registered is None:
            return True
        for plugin, hint in registered:
            if plugin not in pinfo.unschedulable_plugins:
                continue
            if hint is None:
                return True
            try:
                if hint(pinfo.pod, old, new) is QueueingHint.QUEUE:
                    return True
            except Exception:  # a hint that fails cannot rule the event out
                log.exception("queueing hint of %s for %s failed", plugin, event)
                return True
        return False

    # ------------------------------------------------------------------ the scheduler's side
    async def pop(self) -> QueuedPodInfo:
        """The next pod to schedule; raises QueueClosed once close() is called."""
        while True:
            while self._heap:
                _, _, seq, key = heapq.heappop(self._heap)
                pinfo = self._active.get(key)
                if pinfo is None or pinfo._seq != seq:
                    continue  # removed or re-pushed since
                del self._active[key]
                pinfo.attempts += 1
                if pinfo.initial_attempt_timestamp is None:
                    pinfo.initial_attempt_timestamp = self._clock()
                self._in_flight[key] = self._events_recorded
                return pinfo
            if self._closed:
                raise QueueClosed()
            self._wakeup.clear()
            await self._wakeup.wait()

    def add_unschedulable_if_not_present(
        self, pinfo: QueuedPodInfo, *, error: bool = False
    ) -> None:
        """Requeues a pod whose attempt failed: to back-off after an error, if the pod changed
        while in flight, or if an event that came meanwhile may help it (kubernetes
        determineSchedulingHintForInFlightPod), else among the unschedulable pods."""
        key = pinfo.key
        since = self._in_flight.pop(key, None)
        updated = key in self._updated_in_flight
        self._updated_in_flight.discard(key)
        if (
            since is None
            or key in self._active
            or key in self._backoff
            or key in self._unschedulable
        ):
            self._forget_in_flight_events()
            return  # deleted while in flight, or already queued again
        pinfo.timestamp = self._clock()
        helped = any(
            self._worth_requeuing(pinfo, event, old, new)
            for number, event, old, new in self._in_flight_events
            if number > since
        )
        self._forget_in_flight_events()
        if error or updated or helped:
            self._backoff[key] = pinfo
        else:
            self._unschedulable.add(pinfo)

    def done(self, pod: core_pb2.Pod) -> None:
        """The pod's attempt is over (bound, or given up on)."""
        key = pod_key(pod)
        self._in_flight.pop(key, None)
        self._updated_in_flight.discard(key)
        self._forget_in_flight_events()

    def _forget_in_flight_events(self) -> None:
        """Drops the events no pod in flight came before."""
        if not self._in_flight:
            self._in_flight_events.clear()
            return
        oldest = min(self._in_flight.values())
        events = self._in_flight_events
        while events and events[0][0] <= oldest:
            events.popleft()

    # ------------------------------------------------------------------ time
    def backoff_duration(self, pinfo: QueuedPodInfo) -> float:
        return float(min(self.initial_backoff * 2 ** max(pinfo.attempts - 1, 0), self.max_backoff))

    def backoff_expiry(self, pinfo: QueuedPodInfo) -> float:
        return pinfo.timestamp + self.backoff_duration(pinfo)

    def flush(self) -> None:
        """Moves pods whose back-off is over to the active queue, and pods unschedulable for longer
        than max_unschedulable_duration to back-off or active."""
        now = self._clock()
        for key, pinfo in list(self._backoff.items()):
            if self.backoff_expiry(pinfo) <= now:
                del self._backoff[key]
                self._push_active(pinfo)
        for key, pinfo in self._unschedulable.items():
            if now - pinfo.timestamp >= self.max_unschedulable_duration:
                self._unschedulable.pop(key)
                self._requeue_after_move(pinfo)

    async def run(self, interval: float = 1.0) -> None:
        """Flushes every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            self.flush()

    def close(self) -> None:
        self._closed = True
        self._wakeup.set()

    # ------------------------------------------------------------------ introspection
    def seconds_since(self, t: float) -> float:
        """Seconds from `t`, a time of this queue's clock (a QueuedPodInfo's), until now."""
        return self._clock() - t

    def pending(self) -> dict[str, int]:
        return {
            "active": len(self._active),
            "backoff": len(self._backoff),
            "unschedulable": len(self._unschedulable),
            "gated": len(self._gated),
            "in_flight": len(self._in_flight),
        }

    def where(self, pod: core_pb2.Pod) -> str | None:
        key = pod_key(pod)
        for name, queue in (
            ("active", self._active),
            ("backoff", self._backoff),
            ("unschedulable", self._unschedulable),
            ("gated", self._gated),
            ("in_flight", self._in_flight),
        ):
            if key in queue:
                return name
        return None

    # ------------------------------------------------------------------ internals
    def _push_active(self, pinfo: QueuedPodInfo) -> None:
        if self.pre_enqueue is not None and not self.pre_enqueue(pinfo.pod):
            self._active.pop(pinfo.key, None)
            self._gated[pinfo.key] = pinfo
            return
        pinfo._seq = next(self._seq)
        self._active[pinfo.key] = pinfo
        heapq.heappush(
            self._heap, (-pod_priority(pinfo.pod), pinfo.timestamp, pinfo._seq, pinfo.key)
        )
        self._wakeup.set()

    def _requeue_after_move(self, pinfo: QueuedPodInfo) -> None:
        if self.backoff_expiry(pinfo) > self._clock():
            self._backoff[pinfo.key] = pinfo
        else:
            self._push_active(pinfo)


def _spec_or_meta_changed(old: core_pb2.Pod, new: core_pb2.Pod) -> bool:
    """Whether anything but the status, the resourceVersion, the managed fields and the finalizers
    changed (kubernetes isPodUpdated): a status the scheduler writes itself, which its manager's
    entry in metadata.managedFields records, must not wake the pod up."""
    if old.spec != new.spec:
        return True
    a, b = type(old.metadata)(), type(new.metadata)()
    a.CopyFrom(old.metadata)
    b.CopyFrom(new.metadata)
    a.resource_version = b.resource_version = ""
    a.generation = b.generation = 0
    for meta in (a, b):
        meta.ClearField("managed_fields")
        meta.ClearField("finalizers")
    return bool(a != b)
