"""One sync of a Job (kubernetes pkg/controller/job syncJob): from its pods, what it has
counted and its policies, the condition it is headed for (the pod failure policy's FailJob, the
backoff limit, the active deadline, failed indexes, the success policy, completions reached), the
pods to create or delete, and the status to write through the tracking."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from controller.framework import pod_state
from controller.framework.expectations import Expectations
from controller.job import conditions
from controller.job import intervals as iv
from controller.job.backoff import BackoffStore, FinishClock, next_record
from controller.job.finalizer_expectations import FinalizerExpectations
from controller.job.indexes import delayed_deletion_per_index, failed_indexes, succeeded_indexes
from controller.job.manage import JobManager
from controller.job.pod_control import JobPodControl
from controller.job.pods import (
    has_backoff_limit_per_index,
    has_tracking_finalizer,
    is_indexed,
    is_pod_failed,
    is_terminating,
    valid_index,
)
from controller.job.policies import match_pod_failure_policy, match_success_policy
from controller.job.state import JobSync
from controller.job.tracking import StatusTracker
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil
from podplane.client.events import NORMAL, EventRecorder


class Parts(Protocol):
    """What a sync uses of the controller."""

    expectations: Expectations
    finalizer_expectations: FinalizerExpectations
    finish_clock: FinishClock
    backoff_store: BackoffStore
    pod_control: JobPodControl
    manager: JobManager
    tracker: StatusTracker
    recorder: EventRecorder


def past_backoff_limit_on_failure(job: batch_pb2.Job, pods: list[core_pb2.Pod]) -> bool:
    """With restartPolicy OnFailure the kubelet restarts failed containers in place: their restarts
    in running or pending pods count against the back-off limit."""
    if job.spec.template.spec.restart_policy != "OnFailure":
        return False
    restarts = sum(
        s.restart_count
        for p in pods
        if p.status.phase in ("Running", "Pending")
        for s in (*p.status.init_container_statuses, *p.status.container_statuses)
    )
    limit = job.spec.backoff_limit
    return restarts > 0 if limit == 0 else restarts >= limit


def deadline_remaining(job: batch_pb2.Job, now: float) -> float | None:
    """Seconds until activeDeadlineSeconds runs out (<= 0: past it); None without a deadline or
    while suspended."""
    start = timeutil.parse(job.status.start_time)
    if not job.spec.HasField("active_deadline_seconds") or start is None or job.spec.suspend:
        return None
    return start.timestamp() + job.spec.active_deadline_seconds - now


class JobSyncer:
    def __init__(self, parts: Parts, clock: Callable[[], float]) -> None:
        self.parts = parts
        self._clock = clock

    def new_sync(self, key: str, job: batch_pb2.Job, pods: list[core_pb2.Pod]) -> JobSync:
        now = self._clock()
        active = [p for p in pods if pod_state.is_active(p)]
        uncounted = job.status.uncounted_terminated_pods
        sync = JobSync(
            key=key,
            job=job,
            pods=pods,
            active=active,
            ready=sum(pod_state.is_ready(p) for p in active),
            terminating=sum(is_terminating(p) for p in pods),
            uncounted_succeeded=frozenset(uncounted.succeeded),
            uncounted_failed=frozenset(uncounted.failed),
            expected_removals=self.parts.finalizer_expectations.expected(key),
            now=now,
            stamp=timeutil.format_time(datetime.fromtimestamp(now, UTC)),
        )
        new_succeeded, new_failed = self._new_finished(sync)
        ignored = sum(not match_pod_failure_policy(job, p).counts for p in new_failed)
        sync.succeeded = job.status.succeeded + len(new_succeeded) + len(sync.uncounted_succeeded)
        sync.failed = job.status.failed + len(new_failed) - ignored + len(sync.uncounted_failed)
        sync.new_backoff = next_record(
            self.parts.backoff_store.get(key),
            (self.parts.finish_clock.finished_at(p) for p in new_succeeded),
            (self.parts.finish_clock.finished_at(p) for p in new_failed),
        )
        return sync

    def _new_finished(self, sync: JobSync) -> tuple[list[core_pb2.Pod], list[core_pb2.Pod]]:
        """The finished pods no status counts yet (getNewFinishedPods)."""
        succeeded: list[core_pb2.Pod] = []
        failed: list[core_pb2.Pod] = []
        for pod in sync.pods:
            uid = pod.metadata.uid
            if not has_tracking_finalizer(pod) or uid in sync.expected_removals:
                continue
            if is_indexed(sync.job) and valid_index(sync.job, pod) is None:
                continue
            if pod.status.phase == "Succeeded" and uid not in sync.uncounted_succeeded:
                succeeded.append(pod)
            elif is_pod_failed(pod, sync.job) and uid not in sync.uncounted_failed:
                failed.append(pod)
        return succeeded, failed

    def _finished_by_failure(self, sync: JobSync, recheck: list[float]) -> None:
        """The condition the job's failures lead to, if any."""
        job, status = sync.job, sync.job.status
        target = conditions.find(status, conditions.FAILURE_TARGET)
        if target is not None and target.status == "True":
            sync.finished = conditions.followed_by(target, sync.stamp)
            return
        for pod in sync.pods:
            if is_pod_failed(pod, job):
                message = match_pod_failure_policy(job, pod).fail_job_message
                if message is not None:
                    sync.finished = conditions.new(
                        conditions.FAILURE_TARGET,
                        conditions.POD_FAILURE_POLICY,
                        message,
                        sync.stamp,
                    )
                    return
        deadline = deadline_remaining(job, sync.now)
        if sync.failed > job.spec.backoff_limit or past_backoff_limit_on_failure(job, sync.pods):
            reason = conditions.BACKOFF_LIMIT_EXCEEDED
        elif deadline is not None and deadline <= 0:
            reason = conditions.DEADLINE_EXCEEDED
        else:
            if deadline is not None:
                recheck.append(deadline)
            return
        sync.finished = conditions.new(conditions.FAILURE_TARGET, *reason, sync.stamp)

    def _indexes(self, sync: JobSync) -> None:
        """An Indexed job's succeeded and failed indexes, and what they lead to."""
        job = sync.job
        sync.previous_succeeded_indexes, sync.succeeded_indexes = succeeded_indexes(job, sync.pods)
        sync.succeeded = iv.total(sync.succeeded_indexes)
        if has_backoff_limit_per_index(job):
            failed = sync.failed_indexes = failed_indexes(job, sync.pods)
            if sync.finished is None:
                count = iv.total(failed)
                if job.spec.HasField("max_failed_indexes") and count > job.spec.max_failed_indexes:
                    reason = conditions.MAX_FAILED_INDEXES_EXCEEDED
                    sync.finished = conditions.new(conditions.FAILURE_TARGET, *reason, sync.stamp)
                elif count > 0 and count + sync.succeeded >= job.spec.completions:
                    reason = conditions.FAILED_INDEXES
                    sync.finished = conditions.new(conditions.FAILURE_TARGET, *reason, sync.stamp)
            sync.delayed_deletion = delayed_deletion_per_index(
                job, sync.pods, sync.active, sync.succeeded_indexes, failed, sync.expected_removals
            )
        if sync.finished is None:
            message = match_success_policy(job, sync.succeeded_indexes)
            if message is not None:
                sync.finished = conditions.new(
                    conditions.SUCCESS_CRITERIA_MET, conditions.SUCCESS_POLICY, message, sync.stamp
                )

    async def sync(self, sync: JobSync, in_sync: bool) -> float | None:
        job, status = sync.job, sync.job.status
        suspended = job.spec.suspend
        if not status.start_time and not suspended:
            status.start_time = sync.stamp
        recheck: list[float] = []
        if conditions.is_true(status, conditions.SUCCESS_CRITERIA_MET):
            sync.finished = conditions.find(status, conditions.SUCCESS_CRITERIA_MET)
        else:
            self._finished_by_failure(sync, recheck)
        if is_indexed(job):
            self._indexes(sync)
        error: Exception | None = None
        suspend_changed = False
        active = len(sync.active)
        if sync.finished is not None:
            ready, deleted, error = await self.parts.pod_control.delete_active_pods(
                job, sync.active
            )
            if deleted != active or not in_sync:
                sync.finished = None  # not all gone, or pods not in the cache yet
            active -= deleted
            sync.terminating += deleted
            sync.ready -= ready
        else:
            managed = False
            if in_sync and not job.metadata.deletion_timestamp:
                active, wait, error = await self.parts.manager.manage(sync)
                managed = True
                if wait:
                    recheck.append(wait)
            elif (expires := self.parts.expectations.expires_in(sync.key)) is not None:
                recheck.append(expires)
            completions = job.spec.completions if job.spec.HasField("completions") else None
            if (sync.succeeded > 0 if completions is None else sync.succeeded >= completions) and (
                active == 0
            ):
                sync.finished = conditions.new(
                    conditions.SUCCESS_CRITERIA_MET, *conditions.COMPLETIONS_REACHED, sync.stamp
                )
            elif managed:
                suspend_changed = self._suspension(sync)
        needs_flush = (
            suspend_changed
            or (
                (active, sync.ready, sync.terminating)
                != (status.active, status.ready, status.terminating)
            )
            or not status.HasField("ready")
            or not status.HasField("terminating")
        )
        status.active, status.ready, status.terminating = active, sync.ready, sync.terminating
        await self.parts.tracker.track(sync, needs_flush)
        if error is not None:
            raise error
        if conditions.is_finished(sync.job.status):
            self.parts.finish_clock.forget(p.metadata.uid for p in sync.pods)
            return None
        return min(recheck) if recheck else None

    def _suspension(self, sync: JobSync) -> bool:
        """The Suspended condition, its events, and a resumed job's new start time."""
        job, status = sync.job, sync.job.status
        if job.spec.suspend:
            changed = conditions.ensure(
                status, conditions.SUSPENDED, "True", "JobSuspended", "Job suspended", sync.stamp
            )
            if changed:
                self.parts.recorder.record(job, NORMAL, "Suspended", "Job suspended")
            return changed
        changed = conditions.ensure(
            status, conditions.SUSPENDED, "False", "JobResumed", "Job resumed", sync.stamp
        )
        if changed:
            self.parts.recorder.record(job, NORMAL, "Resumed", "Job resumed")
            status.start_time = sync.stamp  # the deadline counts from the resumption
        return changed
