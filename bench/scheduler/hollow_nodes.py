"""Hollow nodes for the scheduler load test (like kubemark's hollow kubelet or kwok): Node objects
with capacity and a Ready condition, and their Leases in kube-node-lease renewed at the kubelet's
interval, each on its own clock as each kubelet renews its own, so the node lifecycle controller
keeps them Ready (an interval of 0: never renewed, as scheduler_perf's nodes, which no kubelet
keeps). No containers run."""

from __future__ import annotations

import asyncio
import functools
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
        self._renewer: asyncio.Task[None] | None = None
        self._reading = False  # each turn reads its lease instead of renewing it
        self._renewing: dict[str, asyncio.Task[None]] = {}  # by lease: the renewals in flight
        self.renewals = 0
        self.renewal_errors = 0
        # A lease's turn that came while its last renewal was still in flight: not sent.
        self.renewals_skipped = 0
        # The renewals answered a second over the counted span (the CPU figures'), 0 until it
        # ends; and when it began, with the renewals then.
        self.renewals_per_second = 0.0
        self._counting_from = (0.0, 0)

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

    def start_renewing(self, reading: bool = False) -> None:
        """Renews every lease once per interval, the leases' turns spread evenly over it, each
        renewal sent at its turn without waiting for the others' answers, as each kubelet
        renews on its own clock; none with an interval of 0. `reading`: each turn reads its
        lease instead (a Get, counted as a renewal), to compare what serving a call at that
        rate costs without the write."""
        if self.renew_interval <= 0:
            return
        self._reading = reading
        self._renewer = asyncio.get_running_loop().create_task(self._renew_loop())

    async def _renew_loop(self) -> None:
        if not self.names:
            return
        gap = self.renew_interval / len(self.names)
        start, turns = time.monotonic(), 0
        while True:
            for name in self.names:
                # At most one renewal of a lease awaits its answer, as a kubelet has: the
                # renewals in flight are as many as a slow apiserver makes them, up to a lease
                # each.
                if name in self._renewing:
                    self.renewals_skipped += 1
                else:
                    task = asyncio.create_task(self._take_turn(name))
                    self._renewing[name] = task
                    task.add_done_callback(functools.partial(self._renewed_one, name))
                turns += 1
                # Every turn that is due goes at once; the loop sleeps only when ahead, and lets
                # the others run now and then when behind.
                delay = start + turns * gap - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif turns % 64 == 0:
                    await asyncio.sleep(0)

    def count_renewals(self) -> None:
        """Starts the span renewals_per_second covers."""
        self._counting_from = (time.monotonic(), self.renewals)

    def stop_counting_renewals(self) -> None:
        at, renewals = self._counting_from
        self.renewals_per_second = (self.renewals - renewals) / max(time.monotonic() - at, 1e-9)

    def _renewed_one(self, name: str, _: asyncio.Task[None]) -> None:
        self._renewing.pop(name, None)

    async def _take_turn(self, name: str) -> None:
        """A lease's turn: its renewal, or with start_renewing's `reading` a Get of it."""
        try:
            if self._reading:
                await self.client.leases.get(name, LEASE_NAMESPACE)
            else:
                await self._renew(name)
            self.renewals += 1
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - a missed turn is taken again at the next one
            self._leases.pop(name, None)  # stale: read afresh next time
            self.renewal_errors += 1
            log.debug("lease %s's turn: %s", name, e)

    async def _renew(self, name: str) -> None:
        lease = self._leases.get(name)
        if lease is None:
            lease = await self.client.leases.get(name, LEASE_NAMESPACE)
        self._leases[name] = await self._renewed(lease)

    async def stop_renewing(self) -> None:
        tasks = [t for t in (self._renewer, *self._renewing.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._renewer = None
        self._renewing.clear()

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
