"""The order a pod's containers stop in when it has sidecars (kuberuntime's terminationOrdering):
the app containers first, then the sidecars in the reverse of their start order, each waiting for
every app container and for the sidecar started after it to have stopped, but never longer than
its grace period. A container that does not run is not waited for."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery.sidecars import is_sidecar


class TerminationOrdering:
    def __init__(
        self,
        pod: core_pb2.Pod,
        running: Iterable[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        running_names = set(running)
        self._stopped: dict[str, asyncio.Event] = {}
        # Container name -> the containers that must stop before it starts stopping.
        self.prerequisites: dict[str, list[str]] = {}
        for c in (*pod.spec.containers, *pod.spec.init_containers):
            event = self._stopped[c.name] = asyncio.Event()
            if c.name not in running_names:
                event.set()
        apps = [c.name for c in pod.spec.containers]
        later_sidecar = ""
        for c in reversed(pod.spec.init_containers):
            if not is_sidecar(c):
                continue
            self.prerequisites[c.name] = apps + ([later_sidecar] if later_sidecar else [])
            later_sidecar = c.name

    async def wait_for_turn(self, name: str, grace: int) -> float:
        """Waits until the containers `name` stops after have stopped, at most `grace` seconds;
        returns the seconds waited."""
        started = self.clock()
        if grace <= 0:
            return 0.0
        for prerequisite in self.prerequisites.get(name, []):
            left = grace - (self.clock() - started)
            if left <= 0:
                break
            try:
                async with asyncio.timeout(left):
                    await self._stopped[prerequisite].wait()
            except TimeoutError:
                break
        return self.clock() - started

    def stopped(self, name: str) -> None:
        event = self._stopped.get(name)
        if event is not None:
            event.set()
