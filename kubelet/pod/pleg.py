"""The pod lifecycle event generator (pkg/kubelet/pleg): every second it lists the runtime's
sandboxes and containers, and a pod whose containers changed state (started, exited, vanished) is
handed to the pod workers, so status follows the runtime promptly. Each relist also sets
kubelet_running_pods and kubelet_running_containers, as the kubelet's PLEG does.

With the EventedPLEG feature gate (Kubernetes 1.31: beta, off by default) and a runtime that has
container events (the CRI's GetContainerEvents), it relists when the runtime reports a change, at
most once a second as before (so a container seen running still shows running for a relist
period: kubelet/pod/sync.py), and every 300 s regardless, as the evented PLEG's generic relist
does; a node at rest then costs no relist a second. While the event stream is down it relists
every second, and tries the stream again. Kubernetes' evented PLEG takes the statuses the events
carry; here an event only asks for a relist, so both ways end in the same state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol, runtime_checkable

from kubelet import metrics
from kubelet.runtime.types import (
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerStatus,
    Unimplemented,
)

log = logging.getLogger(__name__)
RELIST_PERIOD = 1.0
# A relist older than this makes the node NotReady (Kubernetes: 3 minutes).
RELIST_THRESHOLD = 180.0
# Following the runtime's events: a relist every 5 minutes, and NotReady after 10 minutes
# without one (pkg/kubelet/kubelet.go, eventedPlegRelistPeriod and eventedPlegRelistThreshold).
EVENTED_RELIST_PERIOD = 300.0
EVENTED_RELIST_THRESHOLD = 600.0


@runtime_checkable
class ContainerEventSource(Protocol):
    """What the evented PLEG needs of the runtime (a CRI runtime has it)."""

    def container_events(self) -> AsyncIterator[str]:
        """The id of each container or sandbox that changes, as it does; ContainerRuntimeError
        when the stream breaks, Unimplemented when the runtime has no events."""


Fingerprint = frozenset[tuple[str, str, str, int]]


class PodLifecycleEventGenerator:
    def __init__(
        self,
        runtime: ContainerRuntime,
        on_change: Callable[[str], None],
        period: float = RELIST_PERIOD,
        clock: Callable[[], float] = time.monotonic,
        evented: bool = False,
        evented_period: float = EVENTED_RELIST_PERIOD,
    ) -> None:
        self.runtime = runtime
        self.on_change = on_change
        self.period = period
        self.clock = clock
        self._started = clock()
        self.last_relist: float | None = None
        # The runtime's events, when the kubelet follows them (None: a relist every period).
        self.events = runtime if evented and isinstance(runtime, ContainerEventSource) else None
        self.evented_period = evented_period
        # The event stream is open; when it was last lost; something changed since the relist.
        self.following = False
        self._lost_at: float | None = None
        self._changed = asyncio.Event()
        self._last: dict[str, Fingerprint] = {}
        # Pod key -> the pod uids the runtime has containers or sandboxes for.
        self.pods_in_runtime: dict[str, set[str]] = {}
        # The containers as the last relist found them: a pod's status shows them so
        # (kubelet/pod/sync.py), as the kubelet's comes from the PLEG's cache.
        self._relisted: dict[str, ContainerStatus] = {}

    def relisted(self, container_id: str) -> ContainerStatus | None:
        """The container as the last relist found it; None if it did not find it."""
        return self._relisted.get(container_id)

    def not_healthy(self) -> str | None:
        """Why the runtime cannot be trusted (for the node's Ready condition), or None."""
        last = self.last_relist if self.last_relist is not None else self._started
        threshold = EVENTED_RELIST_THRESHOLD if self.following else RELIST_THRESHOLD
        if not self.following and self._lost_at is not None:
            last = max(last, self._lost_at)  # relisting every period since the stream went
        age = self.clock() - last
        if age > threshold:
            return f"container runtime is down: PLEG was last seen active {int(age)}s ago"
        return None

    async def relist(self) -> None:
        sandboxes, containers = await asyncio.gather(
            self.runtime.list_pod_sandboxes(), self.runtime.list_containers()
        )
        states: dict[str, set[tuple[str, str, str, int]]] = {}
        pods: dict[str, set[str]] = {}
        for s in sandboxes:
            states.setdefault(s.pod.key, set()).add(
                (s.id, "ready" if s.ready else "notready", s.ip, 0)
            )
            pods.setdefault(s.pod.key, set()).add(s.pod.uid)
        for c in containers:
            states.setdefault(c.pod.key, set()).add((c.id, c.state.value, c.reason, c.exit_code))
            pods.setdefault(c.pod.key, set()).add(c.pod.uid)
        current = {key: frozenset(value) for key, value in states.items()}
        self._relisted = {c.id: c for c in containers}  # set before the syncs it brings
        for key in current.keys() | self._last.keys():
            if current.get(key) != self._last.get(key):
                self.on_change(key)
        self._last = current
        self.pods_in_runtime = pods
        states_count: dict[str, int] = {}
        for c in containers:
            states_count[c.state.value] = states_count.get(c.state.value, 0) + 1
        metrics.set_running(len({s.pod.uid for s in sandboxes if s.ready}), states_count)
        self.last_relist = self.clock()

    async def run(self) -> None:
        """Relists every period; following the runtime's events, only once one has come (or
        evented_period has passed) since the last relist began."""
        follower = None if self.events is None else asyncio.create_task(self._follow(self.events))
        try:
            while True:
                self._changed.clear()
                try:
                    await self.relist()
                except ContainerRuntimeError as e:
                    log.warning("relisting the runtime failed: %s", e)
                await asyncio.sleep(self.period)
                if self.following:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.evented_period - self.period):
                            await self._changed.wait()
        finally:
            if follower is not None:
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)

    async def _follow(self, source: ContainerEventSource) -> None:
        """Each event asks for a relist; a broken stream is tried again every period, with a
        relist once it is open again for what happened meanwhile (a runtime keeps the events
        no one read, so those come too)."""
        while True:
            self.following = True
            self._changed.set()
            opened, heard = self.clock(), False
            try:
                async for _ in source.container_events():
                    self._changed.set()
                    heard = True
            except Unimplemented as e:
                log.info(
                    "the runtime has no container events (%s): relisting every %gs", e, self.period
                )
                self._lose(self.clock())
                return
            except Exception as e:  # noqa: BLE001 - any end of the stream: relist, try again
                now = self.clock()
                # Lost now, unless it is one more try refused as it opened (then since the
                # first loss).
                if self._lost_at is None or heard or now - opened >= self.period:
                    log.warning(
                        "the runtime's container events stopped (%s): relisting every %gs "
                        "until they are back",
                        e,
                        self.period,
                    )
                    self._lose(now)
            self.following = False
            self._changed.set()
            await asyncio.sleep(self.period)

    def _lose(self, at: float) -> None:
        self.following = False
        self._lost_at = at
        self._changed.set()
