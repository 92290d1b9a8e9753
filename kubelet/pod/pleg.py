"""The pod lifecycle event generator (pkg/kubelet/pleg, the generic relisting one): every second it
lists the runtime's sandboxes and containers, and a pod whose containers changed state (started,
exited, vanished) is handed to the pod workers, so status follows the runtime promptly. Each relist
also sets kubelet_running_pods and kubelet_running_containers, as the kubelet's PLEG does."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from kubelet import metrics
from kubelet.runtime.types import (
    ContainerRuntime,
    ContainerRuntimeError,
    ContainerStatus,
)

log = logging.getLogger(__name__)
RELIST_PERIOD = 1.0
# A relist older than this makes the node NotReady (Kubernetes: 3 minutes).
RELIST_THRESHOLD = 180.0

Fingerprint = frozenset[tuple[str, str, str, int]]


class PodLifecycleEventGenerator:
    def __init__(
        self,
        runtime: ContainerRuntime,
        on_change: Callable[[str], None],
        period: float = RELIST_PERIOD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        self.on_change = on_change
        self.period = period
        self.clock = clock
        self._started = clock()
        self.last_relist: float | None = None
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
        age = self.clock() - last
        if age > RELIST_THRESHOLD:
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
        while True:
            try:
                await self.relist()
            except ContainerRuntimeError as e:
                log.warning("relisting the runtime failed: %s", e)
            await asyncio.sleep(self.period)
