"""The scheduler's loop: pop a pending pod, choose a node, assume the pod there and bind it in the
background, so the next decision already counts it (kubernetes pkg/scheduler/schedule_one.go)."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources
from podplane.client.clientset import Client, is_not_found, status_code
from podplane.client.events import NORMAL, EventCreator, EventRecorder
from podplane.client.informer import Informer
from podplane.client.informer_factory import SharedInformerFactory
from scheduler import metrics
from scheduler.algorithm import ScheduleResult, SchedulingAlgorithm
from scheduler.backend.cache.cache import SchedulerCache
from scheduler.backend.queue.scheduling_queue import (
    QueueClosed,
    QueuedPodInfo,
    SchedulingQueue,
    pod_key,
)
from scheduler.event_handlers import EventHandlers, is_assigned
from scheduler.failure_handler import FailureHandler
from scheduler.framework import cluster_events
from scheduler.framework.nominating import CLEAR_NOMINATED_NODE
from scheduler.framework.runtime import Framework
from scheduler.framework.status import Status
from scheduler.framework.types import CycleState

log = logging.getLogger(__name__)

# Binds in flight before the next decision waits for one to finish. Without a bound, a scheduler
# faster than the apiserver piles up thousands of calls on its one connection, and the lease
# renewal queued behind them misses its deadline (kube-scheduler is held back by its client's QPS
# limit instead). Below it, a scheduler on a host with CPU to spare waits for slots, a bind's
# round trip being 20-30 ms (its stream message's linger, the apiserver's queue, a group commit):
# basic read 1,502 pods/s with 32 and 1,662 with 64; daemonset, its binds exempt from flow
# control as scheduler_perf's are, 2,163-2,341 with 64 and 2,390-2,565 with 128 in the same
# hour's runs on a fast host (probe 12-13 ms), each etcd call then carrying more of them
# (`podplane-bench scheduler --workload daemonset --nodes 15001 --pods 30000 --create-first
# --lease-interval 0`). Where flow control limits the scheduler's level (a cluster with
# authentication: workload-high), the binds past its seats wait in its queues.
MAX_BINDS_IN_FLIGHT = 128
# Preemptions whose writes (each victim's condition and deletion) are in flight, for the same
# reason: 500 preemptors at once made 3000 calls, and the scheduler lost its lease. kube-scheduler
# 1.31 makes one preemption's writes at a time, in its scheduling cycle.
MAX_PREEMPTIONS_IN_FLIGHT = 8


class Binder(Protocol):
    """What binds: the client itself, or podplane.client.streams.BindStream."""

    async def bind(self, namespace: str, name: str, node_name: str, uid: str = "") -> None:
        """Binds the pod, or raises why not (grpc.aio.AioRpcError)."""


def _name(pod: core_pb2.Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


class Scheduler:
    def __init__(
        self,
        client: Client,
        framework: Framework,
        *,
        queue: SchedulingQueue | None = None,
        rng: random.Random | None = None,
        flush_interval: float = 1.0,
        max_binds_in_flight: int = MAX_BINDS_IN_FLIGHT,
        binder: Binder | None = None,
        event_stream: Callable[[Client], EventCreator] | None = None,
    ) -> None:
        """`binder` binds (the client's Bind calls by default); `event_stream` (EventStream)
        opens the stream the Scheduled events go over (a Create call each by default)."""
        self.client = client
        self.binder: Binder = binder or client
        self.framework = framework
        self.cache = SchedulerCache()
        self.queue = queue or SchedulingQueue()
        if framework.has_pre_enqueue_plugins:
            self.queue.pre_enqueue = lambda pod: framework.run_pre_enqueue(pod).is_success
        metrics.track_queue(self.queue)
        self.algorithm = SchedulingAlgorithm(framework, rng)
        name = framework.scheduler_name
        # Queued, dropped beyond 1000, repeats counted as an EventSeries: kube-scheduler's
        # events.k8s.io broadcaster.
        self.events = EventRecorder(
            client,
            name,
            instance=f"{name}-{socket.gethostname()}",
            max_queued=1000,
            stream=event_stream,
            series=True,
        )
        self.handlers = EventHandlers(self.cache, self.queue, name, hints=framework.queueing_hints)
        # The framework's informers when it was given them (its plugins list from the same), or
        # informers of the scheduler's own.
        self.informers = (
            framework.handle
            if isinstance(framework.handle, SharedInformerFactory)
            else SharedInformerFactory(client)
        )
        self.pods: Informer[core_pb2.Pod] = self.informers.informer_for(resources.POD)
        self.nodes: Informer[core_pb2.Node] = self.informers.informer_for(resources.NODE)
        self.pods.add_handler(
            self.handlers.on_pod_add, self.handlers.on_pod_update, self.handlers.on_pod_delete
        )
        self.nodes.add_handler(
            self.handlers.on_node_add, self.handlers.on_node_update, self.handlers.on_node_delete
        )
        # Nominations are kept for pods that still exist unbound; preemption writes through the
        # scheduler's client and records its events with the scheduler's recorder.
        self.queue.nominator.current = lambda pod: self.pods.get(pod_key(pod))
        framework.connect(client=client, nominator=self.queue.nominator, events=self.events)
        self._preemption_slots = asyncio.Semaphore(MAX_PREEMPTIONS_IN_FLIGHT)
        self.failures = FailureHandler(
            client,
            framework,
            self.queue,
            self.events,
            lambda key: self.pods.get(key),
            self._spawn,
            self._preemption_slots,
        )
        self._flush_interval = flush_interval
        self._tasks: set[asyncio.Task[None]] = set()
        self._synced = asyncio.Event()
        self._bind_slots = asyncio.Semaphore(max_binds_in_flight)

    async def wait_synced(self) -> None:
        await self._synced.wait()

    async def run(self) -> None:
        """Watches pods and nodes and schedules until stop() or cancellation."""
        loop = asyncio.get_running_loop()
        # Pods and nodes, and whatever the plugins list (claims, volumes, classes), whose changes
        # retry the pods the plugins that registered for them rejected.
        for informer in self.informers.informers():
            if informer.resource.plural not in (resources.POD.plural, resources.NODE.plural):
                self._retry_on_changes(informer, informer.resource.kind)
        self.informers.start()
        background = [loop.create_task(self.queue.run(self._flush_interval))]
        try:
            await self.informers.wait_for_cache_sync()
            self._synced.set()
            log.info(
                "caches synced: %d node(s), %d pod(s); scheduling as %s",
                len(self.nodes.keys()),
                len(self.pods.keys()),
                self.framework.scheduler_name,
            )
            while True:
                try:
                    pinfo = await self.queue.pop()
                except QueueClosed:
                    return
                for slots in (self._bind_slots, self._preemption_slots):
                    if slots.locked():
                        # Back-pressure: the decision waits for a bind (or preemption) slot, so
                        # it sees the cache as it is when it runs.
                        async with slots:
                            pass
                self.schedule_one(pinfo)
                # Let binds, informer events and status writes run between decisions.
                await asyncio.sleep(0)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self.informers.shutdown()

    def _retry_on_changes(self, informer: Informer[Any], kind: str) -> None:
        def changed(action: str) -> None:
            self.handlers.on_cluster_event(cluster_events.of(kind, action))

        informer.add_handler(
            on_add=lambda _obj: changed("Add"),
            on_update=lambda old, new: (
                changed("Update")
                if old.metadata.resource_version != new.metadata.resource_version
                else None
            ),
            on_delete=lambda _obj: changed("Delete"),
        )

    async def stop(self, timeout: float = 5.0) -> None:
        """Stops taking pods; waits up to `timeout` s for binds and writes in flight."""
        self.queue.close()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
        await self.events.flush(timeout)
        await self.events.close()

    # ------------------------------------------------------------------ one decision
    def schedule_one(self, pinfo: QueuedPodInfo) -> None:
        """Decides for one pod without awaiting, so the cache cannot change under the decision."""
        started = time.monotonic()
        pod = self.pods.get(pinfo.key)
        if (
            pod is None
            or pod.metadata.uid != pinfo.pod.metadata.uid
            or not self.handlers.is_pending(pod)
            or self.cache.is_assumed(pod)
        ):
            self.queue.done(pinfo.pod)
            return
        pinfo.pod = pod
        state = CycleState()
        try:
            result = self.algorithm.schedule(pod, self.cache.node_infos(), state)
        except Exception as e:  # a bug in a plugin must not stop the scheduler
            log.exception("scheduling %s failed", _name(pod))
            self.failures.fail(
                pinfo,
                Status.error(f"internal error: {type(e).__name__}: {e}"),
                started,
                CLEAR_NOMINATED_NODE,
            )
            return
        if not result.status.is_success:
            self.failures.unschedulable(pinfo, state, result, started)
            return
        assumed = core_pb2.Pod()
        assumed.CopyFrom(pod)
        assumed.spec.node_name = result.node_name
        self.cache.assume_pod(assumed, state.pod_info(pod))
        # Its nomination, if any, ends: it is placed (kubernetes assume()).
        self.queue.nominator.delete_nominated_pod_if_exists(assumed)
        status = self.framework.run_reserve(state, assumed, result.node_name)
        if not status.is_success:
            self.framework.run_unreserve(state, assumed, result.node_name)
            self.cache.forget_pod(assumed)
            self.failures.fail(pinfo, status, started, CLEAR_NOMINATED_NODE)
            return
        self._spawn(self._bind(pinfo, state, assumed, result, started))

    async def _bind(
        self,
        pinfo: QueuedPodInfo,
        state: CycleState,
        assumed: core_pb2.Pod,
        result: ScheduleResult,
        started: float,
    ) -> None:
        """Binds in the background; the attempt (`started` at time.monotonic()) ends here."""
        meta = assumed.metadata
        # PreBind first, outside the bind slots: it may wait long (for a volume to be
        # provisioned) while other pods bind.
        try:
            status = await self.framework.run_pre_bind(state, assumed, result.node_name)
        except Exception as e:  # a bug in a plugin must not stop the scheduler
            log.exception("PreBind of pod %s failed", _name(assumed))
            status = Status.error(f"internal error: {type(e).__name__}: {e}")
        if not status.is_success:
            self.framework.run_unreserve(state, assumed, result.node_name)
            self.cache.forget_pod(assumed)
            self.queue.move_all_to_active_or_backoff(cluster_events.ASSIGNED_POD_DELETE, assumed)
            if self.pods.get(pinfo.key) is None:
                self.queue.done(assumed)  # deleted meanwhile
                return
            self.failures.fail(pinfo, status, started, CLEAR_NOMINATED_NODE)
            return
        try:
            async with self._bind_slots:
                await self.binder.bind(meta.namespace, meta.name, result.node_name, meta.uid)
        except Exception as e:  # noqa: BLE001 - any failed bind is undone and the pod retried
            self.framework.run_unreserve(state, assumed, result.node_name)
            self.cache.forget_pod(assumed)
            self.queue.move_all_to_active_or_backoff(cluster_events.ASSIGNED_POD_DELETE, assumed)
            current = self.pods.get(pinfo.key)
            if (
                is_not_found(e)
                or current is None
                or current.metadata.uid != meta.uid
                or is_assigned(current)
            ):
                log.info("not binding pod %s: it was deleted or bound meanwhile", _name(assumed))
                self.queue.done(assumed)
                return
            code = status_code(e)
            details = e.details() if hasattr(e, "details") else str(e)
            self.failures.fail(
                pinfo,
                Status.error(
                    f"Binding rejected: {code.name if code else type(e).__name__}: {details}"
                ),
                started,
                CLEAR_NOMINATED_NODE,
            )
            return
        self.queue.done(assumed)
        metrics.attempt(
            metrics.SCHEDULED, self.framework.scheduler_name, time.monotonic() - started
        )
        metrics.scheduled(pinfo.attempts, self.queue.seconds_since(pinfo.first_enqueued))
        # kube-scheduler logs this at V(2), which its default verbosity leaves out: a line per
        # pod was 4 % of the leader's CPU in the load test, and the container runtime's besides.
        log.debug(
            "Successfully bound pod to node pod=%s node=%s evaluatedNodes=%d feasibleNodes=%d",
            _name(assumed),
            result.node_name,
            result.evaluated_nodes,
            result.feasible_nodes,
        )
        self.events.record(
            assumed,
            NORMAL,
            "Scheduled",
            f"Successfully assigned {_name(assumed)} to {result.node_name}",
            action="Binding",
        )

    def _spawn(self, coro: Coroutine[object, None, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        code = status_code(error) if error is not None else None
        if code is not None:  # the apiserver said no or is away: the next attempt writes again
            log.warning("writing to the apiserver failed: %s", code.name)
        else:
            log.error("scheduler task failed", exc_info=error)
