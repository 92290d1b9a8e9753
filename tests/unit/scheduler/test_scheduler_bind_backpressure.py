"""A scheduler faster than the apiserver keeps at most max_binds_in_flight binds waiting, so that
its other calls (the lease renewal) are not queued behind thousands; every pod is still bound."""

from __future__ import annotations

import asyncio
from typing import Any

from scheduler.backend.queue.scheduling_queue import SchedulingQueue
from scheduler.framework.runtime import Framework
from scheduler.plugins import default_profile, in_tree_registry
from scheduler.scheduler import Scheduler
from tests.unit.scheduler.fakes import FakeClient, wait_until
from tests.unit.scheduler.schedtest import node, pod


class _SlowBinds(FakeClient):
    def __init__(self, nodes: list[Any], pods: list[Any]) -> None:
        super().__init__(nodes, pods)
        self.in_flight = 0
        self.most_in_flight = 0

    async def bind(self, namespace: str, name: str, node_name: str, uid: str = "") -> Any:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.02)
            return await super().bind(namespace, name, node_name, uid)
        finally:
            self.in_flight -= 1


async def test_binds_in_flight_are_bounded_and_all_pods_get_bound() -> None:
    client = _SlowBinds(
        [node("node-1", cpu="100"), node("node-2", cpu="100")],
        [pod(f"p{i}", cpu="100m") for i in range(40)],
    )
    scheduler = Scheduler(
        client,  # type: ignore[arg-type]
        Framework(in_tree_registry(), default_profile()),
        queue=SchedulingQueue(),
        flush_interval=0.01,
        max_binds_in_flight=3,
    )
    task = asyncio.ensure_future(scheduler.run())
    try:
        await wait_until(lambda: len(client.binds) == 40)
        assert client.most_in_flight <= 3
        requested = sum(info.requested.milli_cpu for info in scheduler.cache.node_infos())
        assert requested == 40 * 100
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
