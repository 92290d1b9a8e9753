"""The scheduling queue (kubernetes pkg/scheduler/backend/queue PriorityQueue).

Pending pods wait in one of three places: the active queue (highest priority, then oldest, first),
the back-off queue (a pod that failed waits 1 s, doubling per attempt up to 10 s) and the
unschedulable pods (waiting for the cluster to change: a node added or changed, a pod deleted or
finished; or for five minutes to pass). A pod popped for scheduling is in flight until the scheduler
requeues it or calls done(). A pod the PreEnqueue plugins keep out of the active queue (one with
scheduling gates) waits among the gated pods, never tried, until an update of the pod lets it in."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from podplane.api.core.v1 import core_pb2
from scheduler.backend.queue.nominator import Nominator
from scheduler.framework.types import pod_priority

log = logging.getLogger(__name__)

DEFAULT_INITIAL_BACKOFF = 1.0
DEFAULT_MAX_BACKOFF = 10.0
# podMaxInUnschedulablePodsDuration (kubernetes DefaultPodMaxInUnschedulablePodsDuration).
DEFAULT_MAX_UNSCHEDULABLE_DURATION = 300.0


class QueueClosed(Exception):
    pass


def pod_key(pod: core_pb2.Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


@dataclass
class QueuedPodInfo:
    pod: core_pb2.Pod
    # When the pod last entered the queue: orders equal priorities and starts its back-off.
    timestamp: float
    initial_attempt_timestamp: float | None = None
    attempts: int = 0
    # The plugins that rejected the pod on its last attempt.
    unschedulable_plugins: set[str] = field(default_factory=set)
    _seq: int = 0
    # When the pod first entered the queue (the start of the scheduling SLI).
    first_enqueued: float = field(init=False)

    def __post_init__(self) -> None:
        self.first_enqueued = self.timestamp

    @property
    def key(self) -> str:
        return pod_key(self.pod)


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
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._gated: dict[str, QueuedPodInfo] = {}
        # Whether a pod may enter the active queue (the framework's PreEnqueue plugins); None
        # lets every pod in.
        self.pre_enqueue: Callable[[core_pb2.Pod], bool] | None = None
        # Popped pods by key, with the scheduling cycle they were popped in.
        self._in_flight: dict[str, int] = {}
        self._updated_in_flight: set[str] = set()
        self.scheduling_cycle = 0
        # The cycle during which the cluster last changed in a way that may help unschedulable pods.
        self._move_request_cycle = -1
        # The same, per plugin, for events that concern only some plugins (see move_all's plugins).
        self._plugin_move_request_cycle: dict[str, int] = {}
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
            or self._unschedulable.pop(key, None)
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
        elif key in self._unschedulable:
            pinfo = self._unschedulable[key]
            pinfo.pod = new
            if changed:
                del self._unschedulable[key]
                self._requeue_after_move(pinfo)
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
        self._unschedulable.pop(key, None)
        self._gated.pop(key, None)
        self._in_flight.pop(key, None)
        self._updated_in_flight.discard(key)

    def move_all_to_active_or_backoff(
        self, event: str, plugins: Collection[str] | None = None
    ) -> None:
        """The cluster changed (`event`): every unschedulable pod gets another try, after its
        back-off; with `plugins`, only the pods one of them rejected (kubernetes EventsToRegister:
        a pod another pod's arrival cannot help stays where it is)."""
        if plugins is not None:
            self._move_pods_rejected_by(event, plugins)
            return
        if self._unschedulable:
            log.debug("%s: retrying %d unschedulable pod(s)", event, len(self._unschedulable))
        for key in list(self._unschedulable):
            self._requeue_after_move(self._unschedulable.pop(key))
        self._move_request_cycle = self.scheduling_cycle

    def _move_pods_rejected_by(self, event: str, plugins: Collection[str]) -> None:
        for plugin in plugins:
            self._plugin_move_request_cycle[plugin] = self.scheduling_cycle
        for key, pinfo in list(self._unschedulable.items()):
            # A pod rejected by no known plugin (say, by an error) is retried on any event.
            if not pinfo.unschedulable_plugins or not pinfo.unschedulable_plugins.isdisjoint(
                plugins
            ):
                log.debug("%s: retrying unschedulable pod %s", event, key)
                self._requeue_after_move(self._unschedulable.pop(key))

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
                self.scheduling_cycle += 1
                self._in_flight[key] = self.scheduling_cycle
                return pinfo
            if self._closed:
                raise QueueClosed()
            self._wakeup.clear()
            await self._wakeup.wait()

    def add_unschedulable_if_not_present(
        self, pinfo: QueuedPodInfo, *, error: bool = False
    ) -> None:
        """Requeues a pod whose attempt failed: to back-off after an error or if the cluster changed
        while it was in flight, else among the unschedulable pods."""
        key = pinfo.key
        cycle = self._in_flight.pop(key, None)
        updated = key in self._updated_in_flight
        self._updated_in_flight.discard(key)
        if (
            cycle is None
            or key in self._active
            or key in self._backoff
            or key in self._unschedulable
        ):
            return  # deleted while in flight, or already queued again
        pinfo.timestamp = self._clock()
        if (
            error
            or updated
            or self._move_request_cycle >= cycle
            or any(
                self._plugin_move_request_cycle.get(p, -1) >= cycle
                for p in pinfo.unschedulable_plugins
            )
        ):
            self._backoff[key] = pinfo
        else:
            self._unschedulable[key] = pinfo

    def done(self, pod: core_pb2.Pod) -> None:
        """The pod's attempt is over (bound, or given up on)."""
        key = pod_key(pod)
        self._in_flight.pop(key, None)
        self._updated_in_flight.discard(key)

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
        for key, pinfo in list(self._unschedulable.items()):
            if now - pinfo.timestamp >= self.max_unschedulable_duration:
                del self._unschedulable[key]
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
