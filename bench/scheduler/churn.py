"""scheduler_perf's churn op (test/integration/scheduler_perf: its `churn` opcode), run beside the
measured pods from their first create to their last bind:

- mode recreate, number 1 (mixed-churn): every interval, each object (a hollow Node, a pod that
  fits nowhere, a Service) is created if it is not there and deleted if it is, so each lives
  one interval in two;
- mode create (preemption-async): every interval, a new object (a preemptor) is created, each
  create in a task of its own (an open loop, as its ticker does not wait for the create)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bench.scheduler.workloads import (
    HIGH_PRIORITY_REQUESTS,
    LARGE_CPU_REQUESTS,
    RUN_LABEL,
    high_priority_pod,
    hollow_node,
    node_name,
)
from podplane.api.core.v1 import service_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.json_types import JSONObject
from podplane.client.clientset import Client, is_not_found

log = logging.getLogger(__name__)

RECREATE_INTERVAL = 1.0  # SchedulingWithMixedChurn's intervalMilliseconds: 1000
CREATE_INTERVAL = 0.2  # PreemptionAsync's intervalMilliseconds: 200
CHURN_POD = "churn-pod"
CHURN_SERVICE = "churn-service"


def preemptor_name(index: int) -> str:
    return f"preemptor-{index:06d}"


def churn_service(namespace: str, run_id: str) -> service_pb2.Service:
    """templates/churn/service-default.yaml: a Service selecting pods no one runs."""
    service = service_pb2.Service(
        api_version="v1",
        kind="Service",
        metadata=meta_pb2.ObjectMeta(
            name=CHURN_SERVICE, namespace=namespace, labels={RUN_LABEL: run_id}
        ),
    )
    service.spec.selector["app"] = "foo"
    service.spec.ports.add(protocol="TCP", port=8080, target_port="8080")
    return service


class _Churn:
    """A ticker that calls tick(n) every `interval` seconds in a task of its own, until stop()."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.errors = 0
        self._ticker: asyncio.Task[None] | None = None
        self._ticks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._ticker = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        began, n = time.monotonic(), 0
        while True:
            task = asyncio.get_running_loop().create_task(self._guarded(n))
            self._ticks.add(task)
            task.add_done_callback(self._ticks.discard)
            n += 1
            await asyncio.sleep(max(0.0, began + n * self.interval - time.monotonic()))

    async def _guarded(self, n: int) -> None:
        try:
            await self.tick(n)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - counted; the churn goes on
            self.errors += 1
            log.warning("churn: %s", e)

    async def tick(self, n: int) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        """Stops ticking and waits for the calls in flight."""
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        if self._ticks:
            await asyncio.gather(*self._ticks, return_exceptions=True)


class RecreateChurn(_Churn):
    """mixed-churn's: a Node named as the run's next hollow node (so that the measured pods it
    takes are checked as any other's), a pod of priority 10 asking for 9 cpu, and a Service."""

    def __init__(
        self, client: Client, namespace: str, run_id: str, nodes: int, workload: str
    ) -> None:
        super().__init__(RECREATE_INTERVAL)
        self.client, self.namespace, self.run_id = client, namespace, run_id
        self.node_index, self.workload = nodes, workload
        self.node = node_name(run_id, nodes)
        self.created = 0
        self.deleted = 0
        # The pod that fits nowhere, seen bound when deleted: a binding no filter allows.
        self.churn_pod_bound = 0

    async def tick(self, n: int) -> None:
        # One object of each kind there, then not, alternately (number 1).
        await asyncio.gather(*(step() for step in self._steps(create=n % 2 == 0)))

    def _steps(self, create: bool) -> list[Callable[[], Awaitable[None]]]:
        client, ns = self.client, self.namespace

        async def node() -> None:
            if create:
                now = timeutil.now()
                await client.nodes.create(
                    hollow_node(self.node, self.node_index, self.workload, self.run_id, now)
                )
            else:
                await client.nodes.delete(self.node)

        async def pod() -> None:
            if create:
                await client.pods.create(
                    high_priority_pod(CHURN_POD, ns, self.run_id, LARGE_CPU_REQUESTS)
                )
            else:
                gone = await client.pods.delete(CHURN_POD, ns, grace_period_seconds=0)
                self.churn_pod_bound += bool(gone.spec.node_name)

        async def service() -> None:
            if create:
                await client.services.create(churn_service(ns, self.run_id))
            else:
                await client.services.delete(CHURN_SERVICE, ns)

        return [self._counted(step, create) for step in (node, pod, service)]

    def _counted(
        self, step: Callable[[], Awaitable[None]], create: bool
    ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await step()
            if create:
                self.created += 1
            else:
                self.deleted += 1

        return run

    async def clean_up(self) -> None:
        """Once stopped: deletes what is left (the node is not one of the hollow nodes the run
        removes, and a run started here leaves nothing behind anyway)."""
        for delete in (
            lambda: self.client.nodes.delete(self.node),
            lambda: self.client.pods.delete(CHURN_POD, self.namespace, grace_period_seconds=0),
            lambda: self.client.services.delete(CHURN_SERVICE, self.namespace),
        ):
            try:
                await delete()
            except Exception as e:  # noqa: BLE001 - most often not there
                if not is_not_found(e):
                    log.warning("churn clean-up: %s", e)

    def report(self) -> JSONObject:
        return {
            "mode": "recreate",
            "interval_seconds": self.interval,
            "objects_created": self.created,
            "objects_deleted": self.deleted,
            "errors": self.errors,
            "churn_pod_bound": self.churn_pod_bound,
        }


class PreemptorChurn(_Churn):
    """preemption-async's: a preemptor (priority 10, 3000m) every 200 ms."""

    def __init__(self, client: Client, namespace: str, run_id: str) -> None:
        super().__init__(CREATE_INTERVAL)
        self.client, self.namespace, self.run_id = client, namespace, run_id
        self.created = 0

    async def tick(self, n: int) -> None:
        await self.client.pods.create(
            high_priority_pod(
                preemptor_name(n), self.namespace, self.run_id, HIGH_PRIORITY_REQUESTS
            )
        )
        self.created += 1

    def report(self) -> JSONObject:
        return {
            "mode": "create",
            "interval_seconds": self.interval,
            "objects_created": self.created,
            "errors": self.errors,
        }
