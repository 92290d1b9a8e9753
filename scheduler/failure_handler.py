"""What happens to a pod no node took (kubernetes schedule_one.go: the PostFilter call after
SchedulePod, handleSchedulingFailure): the PostFilter plugins may make room by preempting
lower-priority pods, nominating the pod to that node; then the pod goes back to the queue,
nominated as they said, with PodScheduled=False and a FailedScheduling event saying why."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine

from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from podplane.client.events import WARNING, EventRecorder
from scheduler import metrics, pod_status
from scheduler.algorithm import ScheduleResult
from scheduler.backend.queue.scheduling_queue import QueuedPodInfo, SchedulingQueue
from scheduler.framework.diagnosis import Diagnosis, fit_error_message
from scheduler.framework.nominating import CLEAR_NOMINATED_NODE, NominatingInfo, PendingWrites
from scheduler.framework.runtime import Framework
from scheduler.framework.status import Status
from scheduler.framework.types import CycleState

log = logging.getLogger(__name__)


def _name(pod: core_pb2.Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


class FailureHandler:
    def __init__(
        self,
        client: Client,
        framework: Framework,
        queue: SchedulingQueue,
        events: EventRecorder,
        current: Callable[[str], core_pb2.Pod | None],
        spawn: Callable[[Coroutine[object, None, None]], None],
        preemption_slots: asyncio.Semaphore,
    ) -> None:
        """`current` gets a pod from the informer by namespace/name; `spawn` runs the writes in
        the background, as the scheduler's other tasks; a preemption's writes wait for one of
        `preemption_slots`."""
        self.client = client
        self.framework = framework
        self.queue = queue
        self.events = events
        self._current = current
        self._spawn = spawn
        self._preemption_slots = preemption_slots

    def unschedulable(
        self, pinfo: QueuedPodInfo, state: CycleState, result: ScheduleResult, started: float
    ) -> None:
        """No node fits (or the attempt failed): the PostFilter plugins may make room by
        preempting lower-priority pods, nominating the pod to that node (kubernetes
        schedulingCycle after SchedulePod)."""
        status = result.status
        if not status.is_rejected:  # an error: no preemption, and no nomination kept
            self.fail(pinfo, status, started, CLEAR_NOMINATED_NODE)
            return
        diagnosis = result.diagnosis
        # The plugins that rejected it: only events that concern them need wake it up.
        pinfo.unschedulable_plugins = set(diagnosis.unschedulable_plugins)
        if not self.framework.has_post_filter_plugins:
            self.fail(pinfo, status, started)
            return
        post, post_status = self.framework.run_post_filter(
            state, pinfo.pod, diagnosis.node_statuses()
        )
        if post_status.is_error:
            log.error("PostFilter of pod %s failed: %s", _name(pinfo.pod), post_status.message)
        diagnosis.post_filter_message = post_status.message
        status = Status.unschedulable(fit_error_message(diagnosis.num_all_nodes, diagnosis))
        nominating = post.nominating_info if post is not None else None
        if post is None or post.pending is None:
            self.fail(pinfo, status, started, nominating)
            return
        # Nominated at once, so the next decisions leave the room being made to it; the pod
        # stays in flight until the victims are on their way out.
        self.queue.nominator.add_nominated_pod(pinfo.pod, nominating)
        self._spawn(self._make_room(pinfo, post.pending, diagnosis, nominating, started))

    async def _make_room(
        self,
        pinfo: QueuedPodInfo,
        pending: PendingWrites,
        diagnosis: Diagnosis,
        nominating: NominatingInfo | None,
        started: float,
    ) -> None:
        """The PostFilter's writes (the victims' deletion), then the pod back to the queue,
        nominated; if they failed, not nominated (they are retried with the pod)."""
        try:
            async with self._preemption_slots:
                made = await pending()
        except Exception as e:  # a bug in a plugin must not stop the scheduler
            log.exception("preemption for pod %s failed", _name(pinfo.pod))
            made = Status.error(f"internal error: {type(e).__name__}: {e}")
        if not made.is_success:
            log.error("preemption for pod %s failed: %s", _name(pinfo.pod), made.message)
            self.queue.nominator.delete_nominated_pod_if_exists(pinfo.pod)
            diagnosis.post_filter_message = made.message
            nominating = None
        status = Status.unschedulable(fit_error_message(diagnosis.num_all_nodes, diagnosis))
        current = self._current(pinfo.key)
        if current is not None and current.metadata.uid == pinfo.pod.metadata.uid:
            pinfo.pod = current
        self.fail(pinfo, status, started, nominating)

    def fail(
        self,
        pinfo: QueuedPodInfo,
        status: Status,
        started: float,
        nominating: NominatingInfo | None = None,
    ) -> None:
        """Back to the queue, nominated as `nominating` says (None: as its status says), and
        PodScheduled=False with the reason written (kubernetes handleSchedulingFailure)."""
        pod = pinfo.pod
        rejected = status.is_rejected
        metrics.attempt(
            metrics.UNSCHEDULABLE if rejected else metrics.ERROR,
            self.framework.scheduler_name,
            time.monotonic() - started,
        )
        self.queue.add_unschedulable_if_not_present(pinfo, error=not rejected)
        # Without this, the next decisions would not count the nomination until the status
        # written below comes back through the informer.
        self.queue.nominator.add_nominated_pod(pod, nominating)
        if rejected:
            log.info(
                "Unable to schedule pod; no fit; waiting pod=%s err=%r", _name(pod), status.message
            )
            reason = pod_status.REASON_UNSCHEDULABLE
        else:
            log.error("Error scheduling pod; retrying pod=%s err=%r", _name(pod), status.message)
            reason = pod_status.REASON_SCHEDULER_ERROR
        self.events.record(pod, WARNING, "FailedScheduling", status.message, action="Scheduling")
        nominated = (
            nominating.nominated_node_name
            if nominating is not None and nominating.overrides
            else None
        )
        self._spawn(
            pod_status.mark_unschedulable(self.client, pod, reason, status.message, nominated)
        )
