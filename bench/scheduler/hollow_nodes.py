"""Hollow nodes for the scheduler load test (like kubemark's hollow kubelet or kwok): Node objects
with capacity and a Ready condition, and their Leases in kube-node-lease renewed at the kubelet's
interval by a few tasks, so the node lifecycle controller keeps them Ready (an interval of 0: never
renewed, as scheduler_perf's nodes, which no kubelet keeps). No containers run."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bench.scheduler.workloads import hollow_node, node_name
from podplane.api.coordination.v1 import lease_pb2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.client.clientset import Client, is_already_exists, is_not_found

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40
# The kubelet renews every quarter of the lease duration (pkg/kubelet/nodelease).
RENEW_INTERVAL = 10.0
RENEWERS = 4


async def _bounded(
    concurrency: int,
    jobs: list[Callable[[], Awaitable[None]]],
    on_done: Callable[[], None] | None = None,
) -> None:
    """Runs the coroutine factories `jobs`, `concurrency` at a time."""
    queue = list(reversed(jobs))

    async def worker() -> None:
        while queue:
            job = queue.pop()
            await job()
            if on_done is not None:
                on_done()

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(jobs))))))


class HollowNodes:
    def __init__(
        self,
        client: Client,
        run_id: str,
        count: int,
        workload: str,
        renew_interval: float = RENEW_INTERVAL,
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.names = [node_name(run_id, i) for i in range(count)]
        self.workload = workload
        self.renew_interval = renew_interval
        self._leases: dict[str, lease_pb2.Lease] = {}
        self._renewers: list[asyncio.Task[None]] = []
        self.renewals = 0
        self.renewal_errors = 0

    async def register(
        self, concurrency: int = 32, progress: Callable[[int], None] | None = None
    ) -> None:
        """Creates the Nodes and their Leases (an existing one of the same name is reused)."""
        done = 0

        def one_done() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done)

        def job(index: int, name: str) -> Callable[[], Awaitable[None]]:
            async def create() -> None:
                now = timeutil.now()
                node = hollow_node(name, index, self.workload, self.run_id, now)
                try:
                    created = await self.client.nodes.create(node)
                except Exception as e:
                    if not is_already_exists(e):
                        raise
                    created = await self.client.nodes.get(name)
                self._leases[name] = await self._create_lease(name, created.metadata.uid)

            return create

        await _bounded(concurrency, [job(i, n) for i, n in enumerate(self.names)], one_done)

    async def _create_lease(self, name: str, node_uid: str) -> lease_pb2.Lease:
        lease = lease_pb2.Lease(
            api_version="coordination.k8s.io/v1",
            kind="Lease",
            metadata=meta_pb2.ObjectMeta(name=name, namespace=LEASE_NAMESPACE),
            spec=lease_pb2.LeaseSpec(
                holder_identity=name,
                lease_duration_seconds=LEASE_DURATION_SECONDS,
                renew_time=timeutil.now_micro(),
            ),
        )
        lease.metadata.owner_references.add(api_version="v1", kind="Node", name=name, uid=node_uid)
        try:
            return await self.client.leases.create(lease)
        except Exception as e:
            if not is_already_exists(e):
                raise
            current = await self.client.leases.get(name, LEASE_NAMESPACE)
            return await self._renewed(current)

    async def _renewed(self, lease: lease_pb2.Lease) -> lease_pb2.Lease:
        update = lease_pb2.Lease()
        update.CopyFrom(lease)
        update.spec.renew_time = timeutil.now_micro()
        return await self.client.leases.update(update)

    def start_renewing(self, renewers: int = RENEWERS) -> None:
        """Renews every lease once per interval, spread evenly over it, from `renewers` tasks;
        none with an interval of 0."""
        if self.renew_interval <= 0:
            return
        loop = asyncio.get_running_loop()
        groups = [self.names[i::renewers] for i in range(renewers)]
        self._renewers = [loop.create_task(self._renew_loop(g)) for g in groups if g]

    async def _renew_loop(self, names: list[str]) -> None:
        gap = self.renew_interval / max(1, len(names))
        while True:
            start = time.monotonic()
            for i, name in enumerate(names):
                lease = self._leases.get(name)
                try:
                    if lease is None:
                        lease = await self.client.leases.get(name, LEASE_NAMESPACE)
                    self._leases[name] = await self._renewed(lease)
                    self.renewals += 1
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 - a missed renewal is retried next round
                    self._leases.pop(name, None)  # stale: read afresh next time
                    self.renewal_errors += 1
                    log.debug("renewing lease %s: %s", name, e)
                delay = start + (i + 1) * gap - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)

    async def stop_renewing(self) -> None:
        for task in self._renewers:
            task.cancel()
        await asyncio.gather(*self._renewers, return_exceptions=True)
        self._renewers = []

    async def remove(self, concurrency: int = 32) -> None:
        """Deletes the Nodes and their Leases."""
        await self.stop_renewing()

        def job(name: str) -> Callable[[], Awaitable[None]]:
            async def delete() -> None:
                for call in (
                    lambda: self.client.leases.delete(name, LEASE_NAMESPACE),
                    lambda: self.client.nodes.delete(name),
                ):
                    try:
                        await call()
                    except Exception as e:  # noqa: BLE001 - logged; the clean-up goes on
                        if not is_not_found(e):
                            log.warning("deleting hollow node %s: %s", name, e)

            return delete

        await _bounded(concurrency, [job(n) for n in self.names])
