"""A watch checker for the fault tests: watches a resource from a list's resourceVersion and
records every event across reconnections, as a reflector resumes them (tests/e2e/faults.py has the
writer whose acknowledged writes it is held to)."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import grpc

from podplane.client.clientset import ResourceClient, status_code


@dataclass
class WatchChecker:
    """Watches a resource in a namespace from a list's resourceVersion and records every event;
    a broken stream is resumed from the last resourceVersion seen, with back-off, as a reflector
    does. A resume refused as too old (410 Expired: the watch cache of an apiserver that restarted
    starts at its list, as Kubernetes') is recorded in `expired` and, with `relist_when_expired`,
    followed by a relist, as a reflector's: the list is kept in `relists` (its resourceVersion and
    each object's) and the watch goes on from it; without, the checker stops there."""

    resource: ResourceClient[Any]
    namespace: str
    relist_when_expired: bool = False
    events: list[tuple[str, str, int]] = field(default_factory=list)  # type, name, rv
    event_times: list[float] = field(default_factory=list)
    reconnects: int = 0
    expired: list[str] = field(default_factory=list)
    relists: list[tuple[int, dict[str, int]]] = field(default_factory=list)
    resource_version: str = ""

    async def start(self) -> asyncio.Task[None]:
        """Lists (the resourceVersion the watch starts from), then runs in a task: every write
        made after start() returns comes as an event. A write made while the list is under way
        may be in the list, not in the watch, so the writers start once this has returned."""
        if not self.resource_version:
            self.resource_version = (
                await self.resource.list(self.namespace)
            ).metadata.resource_version
        return asyncio.create_task(self.run())

    async def run(self) -> None:
        """Watches from resource_version (start() lists for it first)."""
        delay = 0.0
        while True:
            try:
                async for event in self.resource.watch(
                    self.namespace, resource_version=self.resource_version
                ):
                    rv = event.object.metadata.resource_version
                    self.events.append((event.type, event.object.metadata.name, int(rv)))
                    self.event_times.append(time.monotonic())
                    self.resource_version = rv
                    delay = 0.0
            except grpc.aio.AioRpcError as e:
                if status_code(e) == grpc.StatusCode.OUT_OF_RANGE:
                    self.expired.append(str(e.details()))
                    if not self.relist_when_expired:
                        return
                    await self._relist()
                    continue
            self.reconnects += 1
            delay = min(max(delay * 2, 0.2), 5.0)
            await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def _relist(self) -> None:
        while True:
            try:
                async with asyncio.timeout(5):
                    listed = await self.resource.list(self.namespace)
                break
            except (TimeoutError, grpc.aio.AioRpcError):
                await asyncio.sleep(0.5)
        self.resource_version = listed.metadata.resource_version
        self.relists.append(
            (
                int(self.resource_version),
                {o.metadata.name: int(o.metadata.resource_version) for o in listed.items},
            )
        )

    def relisted(self, name: str, rv: int) -> bool:
        """Whether a relist took the place of the event of `name`'s write at `rv`: the list was
        read after it and shows that write or a later one."""
        return any(rv <= at and objs.get(name, 0) >= rv for at, objs in self.relists)

    def per_object(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for _, name, rv in self.events:
            out.setdefault(name, []).append(rv)
        return out

    def first_event_after(self, t: float) -> float | None:
        return next((e for e in self.event_times if e >= t), None)
