"""The Job controller (kubernetes pkg/controller/job/job_controller.go, with pods counted as the
legacy controller counted them: finished pods stay and are what succeeded and failed count).

It keeps min(parallelism, completions - succeeded) pods running from the Job's template, replaces
failed ones after a back-off (10 s doubling to 6 min), and finishes the Job: Complete once
`completions` pods have succeeded, Failed once more than `backoffLimit` pods have failed
(BackoffLimitExceeded) or it ran past `activeDeadlineSeconds` (DeadlineExceeded, its running pods
deleted)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from controller.framework import pod_state
from controller.framework.controller_ref import PodClaim, controller_of, new_controller_ref, pod_key
from controller.framework.expectations import Expectations
from controller.framework.pod_ordering import order_for_deletion
from controller.framework.reconciler import ReconcileLoop
from controller.framework.slow_start import slow_start_batch
from controller.job.backoff import FinishClock, backoff_record, remaining_backoff
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import resources, timeutil
from podplane.apimachinery.selectors import SelectorError, from_label_selector_message
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.events import NORMAL, WARNING, EventRecorder
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

DEFAULT_BACKOFF = 10.0
MAX_BACKOFF = 6 * 60.0
# At most this many pods are created or deleted per sync (MaxPodCreateDeletePerSync).
MAX_POD_CHANGES_PER_SYNC = 500

COMPLETE, FAILED, SUSPENDED = "Complete", "Failed", "Suspended"
BACKOFF_LIMIT_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")


# ---------------------------------------------------------------- what a sync computes


def is_finished(status: batch_pb2.JobStatus) -> bool:
    """A job is finished once it has a true Complete or Failed condition; nothing changes after."""
    return any(c.type in (COMPLETE, FAILED) and c.status == "True" for c in status.conditions)


def want_active(job: batch_pb2.Job, active: int, succeeded: int) -> int:
    """How many pods should run: min(parallelism, completions - succeeded); a job without
    completions (a work queue) runs `parallelism` until one pod succeeds, then lets the rest
    finish."""
    if job.spec.HasField("suspend") and job.spec.suspend:
        return 0
    parallelism = int(job.spec.parallelism)
    if not job.spec.HasField("completions"):
        return active if succeeded > 0 else parallelism
    return max(0, min(int(job.spec.completions) - succeeded, parallelism))


def is_complete(job: batch_pb2.Job, active: int, succeeded: int) -> bool:
    if not job.spec.HasField("completions"):
        return succeeded > 0 and active == 0
    return succeeded >= int(job.spec.completions) and active == 0


def exceeds_backoff_limit(job: batch_pb2.Job, failed: int) -> bool:
    return failed > int(job.spec.backoff_limit)


def past_backoff_limit_on_failure(job: batch_pb2.Job, pods: Sequence[core_pb2.Pod]) -> bool:
    """With restartPolicy OnFailure the kubelet restarts failed containers in place: their restarts
    in running or pending pods count against the back-off limit."""
    if job.spec.template.spec.restart_policy != "OnFailure":
        return False
    restarts = sum(
        int(s.restart_count)
        for p in pods
        if p.status.phase in ("Running", "Pending")
        for s in (*p.status.init_container_statuses, *p.status.container_statuses)
    )
    limit = int(job.spec.backoff_limit)
    return restarts > 0 if limit == 0 else restarts >= limit


def deadline_remaining(job: batch_pb2.Job, start: float | None, now: float) -> float | None:
    """Seconds until activeDeadlineSeconds runs out (<= 0: past it); None without a deadline."""
    if not job.spec.HasField("active_deadline_seconds") or start is None:
        return None
    return start + float(job.spec.active_deadline_seconds) - now


def new_pod(job: batch_pb2.Job) -> core_pb2.Pod:
    """A pod from the job's template, named <job>-xxxxx and controlled by the job."""
    template = job.spec.template
    pod = core_pb2.Pod()
    meta = pod.metadata
    meta.generate_name = f"{job.metadata.name}-"
    meta.namespace = job.metadata.namespace
    meta.labels.update(template.metadata.labels)
    meta.annotations.update(template.metadata.annotations)
    meta.finalizers.extend(template.metadata.finalizers)
    meta.owner_references.append(new_controller_ref(job, resources.JOB))
    pod.spec.CopyFrom(template.spec)
    return pod


def set_condition(
    status: batch_pb2.JobStatus, type_: str, state: str, reason: str, message: str, now: str
) -> bool:
    """Adds or updates a condition; False when it is already so."""
    for c in status.conditions:
        if c.type == type_:
            if (c.status, c.reason, c.message) == (state, reason, message):
                return False
            if c.status != state:
                c.last_transition_time = now
            c.status, c.reason, c.message, c.last_probe_time = state, reason, message, now
            return True
    status.conditions.append(
        batch_pb2.JobCondition(
            type=type_,
            status=state,
            reason=reason,
            message=message,
            last_probe_time=now,
            last_transition_time=now,
        )
    )
    return True


def controller_key(pod: core_pb2.Pod) -> str | None:
    """namespace/name of the Job that controls the pod, if one does."""
    ref = controller_of(pod)
    if ref is not None and ref.kind == "Job" and ref.api_version.startswith("batch/"):
        return f"{pod.metadata.namespace}/{ref.name}"
    return None


def _timestamp(value: str) -> float | None:
    t = timeutil.parse(value)
    return t.timestamp() if t is not None else None


# ---------------------------------------------------------------- the controller


class JobController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        workers: int = 5,
        backoff: float = DEFAULT_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.backoff, self.max_backoff = backoff, max_backoff
        self._clock = clock
        self.jobs: Informer[batch_pb2.Job] = informers.informer_for(resources.JOB)
        self.pods: Informer[core_pb2.Pod] = informers.informer_for(resources.POD)
        self.pods.add_index(NAMESPACE_INDEX, namespace_of)
        self.expectations = Expectations()
        # The uids of jobs this controller has written finished, until the informer shows it: a
        # pass on the stale copy would see the pods it deleted gone, the job not failed, and
        # create a replacement. (Kubernetes' job controller keeps deleted pods visible through
        # its tracking finalizer until they are counted; this one has no such finalizer.)
        self.written_finished: set[str] = set()
        self.finish_clock = FinishClock(clock)
        self.recorder = EventRecorder(client, "job-controller")
        self.loop = ReconcileLoop(
            "job", self.reconcile, informers, [self.jobs, self.pods], workers=workers
        )
        self.jobs.add_handler(
            on_add=self._enqueue_job,
            on_update=lambda _old, new: self._enqueue_job(new),
            on_delete=self._job_deleted,
        )
        self.pods.add_handler(
            on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted
        )

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ handlers: keys only
    def _enqueue_job(self, job: batch_pb2.Job) -> None:
        self.loop.enqueue(f"{job.metadata.namespace}/{job.metadata.name}")

    def _job_deleted(self, job: batch_pb2.Job) -> None:
        key = f"{job.metadata.namespace}/{job.metadata.name}"
        self.expectations.delete(key)
        self.written_finished.discard(job.metadata.uid)
        self.loop.enqueue(key)

    def _pod_added(self, pod: core_pb2.Pod) -> None:
        if pod.metadata.deletion_timestamp:
            self._pod_deleted(pod)  # seen for the first time already going (a relist)
            return
        if (key := controller_key(pod)) is not None:
            self.expectations.creation_observed(key)
            self.loop.enqueue(key)
        elif controller_of(pod) is None:
            self._enqueue_selecting(pod)

    def _pod_updated(self, old: core_pb2.Pod, new: core_pb2.Pod) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if new.metadata.deletion_timestamp and not old.metadata.deletion_timestamp:
            self._pod_deleted(new)  # going: the deletion asked for is done
        keys = {controller_key(old), controller_key(new)}
        for key in keys:
            if key is not None:
                self.loop.enqueue(key)
        if controller_of(new) is None and old.metadata.labels != new.metadata.labels:
            self._enqueue_selecting(new)

    def _pod_deleted(self, pod: core_pb2.Pod) -> None:
        if (key := controller_key(pod)) is not None:
            self.expectations.deletion_observed(key, pod_key(pod))
            self.loop.enqueue(key)

    def _enqueue_selecting(self, pod: core_pb2.Pod) -> None:
        """An orphan: the jobs whose selector matches it, which may adopt it."""
        for job in self.jobs.list():
            if job.metadata.namespace != pod.metadata.namespace or is_finished(job.status):
                continue
            try:
                selector = from_label_selector_message(job.spec.selector)
            except SelectorError:
                continue
            if not selector.empty and selector.matches(pod.metadata.labels):
                self._enqueue_job(job)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        job = self.jobs.get(key)
        if job is None:
            self.expectations.delete(key)
            return None
        if is_finished(job.status) or job.metadata.uid in self.written_finished:
            self.expectations.delete(key)
            if is_finished(job.status):
                self.written_finished.discard(job.metadata.uid)
            return None
        # Read before the pods: a pod event arriving in between then shows in the pods.
        in_sync = self.expectations.satisfied(key)
        pods = await self._claim_pods(job)
        now = self._clock()
        stamp = timeutil.format_time(datetime.fromtimestamp(now, UTC))
        status = batch_pb2.JobStatus()
        status.CopyFrom(job.status)
        suspended = job.spec.HasField("suspend") and job.spec.suspend
        if suspended:
            set_condition(status, SUSPENDED, "True", "JobSuspended", "Job suspended", stamp)
        elif any(c.type == SUSPENDED and c.status == "True" for c in status.conditions):
            set_condition(status, SUSPENDED, "False", "JobResumed", "Job resumed", stamp)
            status.start_time = stamp  # the deadline counts from the resumption
        if not status.start_time and not suspended:
            status.start_time = stamp

        active = [p for p in pods if pod_state.is_active(p)]
        succeeded = sum(p.status.phase == "Succeeded" for p in pods)
        failed = sum(p.status.phase == "Failed" for p in pods)
        recheck: list[float] = []
        failure: tuple[str, str] | None = None
        deadline = (
            None if suspended else deadline_remaining(job, _timestamp(status.start_time), now)
        )
        if exceeds_backoff_limit(job, failed) or past_backoff_limit_on_failure(job, active):
            failure = BACKOFF_LIMIT_EXCEEDED
        elif deadline is not None and deadline <= 0:
            failure = DEADLINE_EXCEEDED
        elif deadline is not None:
            recheck.append(deadline)

        events: list[tuple[str, str, str]] = []
        if failure is not None:
            await self._delete_pods(key, job, active)
            failed += len(active)
            active_count, ready = 0, 0
            set_condition(status, FAILED, "True", *failure, stamp)
            events.append((WARNING, *failure))
        else:
            active_count = len(active)
            if in_sync and not job.metadata.deletion_timestamp:
                active_count, delay = await self._manage(key, job, pods, active, succeeded, now)
                if delay:
                    recheck.append(delay)
            elif (expires := self.expectations.expires_in(key)) is not None:
                recheck.append(expires)
            ready = sum(pod_state.is_ready(p) for p in active)
            if is_complete(job, active_count, succeeded):
                set_condition(status, COMPLETE, "True", *COMPLETIONS_REACHED, stamp)
                status.completion_time = stamp
                events.append((NORMAL, "Completed", "Job completed"))
        status.active, status.ready = active_count, ready
        status.succeeded, status.failed = succeeded, failed

        if status != job.status and await self._write_status(job, status) and is_finished(status):
            self.written_finished.add(job.metadata.uid)
        for type_, reason, message in events:
            self.recorder.record(job, type_, reason, message)
        if is_finished(status):
            self.finish_clock.forget(p.metadata.uid for p in pods)
            return None
        return min(recheck) if recheck else None

    async def _write_status(self, job: batch_pb2.Job, status: batch_pb2.JobStatus) -> bool:
        """UpdateStatus, once more against the job as now stored after a conflict: the pods this
        pass deleted or created are counted in `status`, and a later pass could not count them
        again (statusUpdateRetries). Whether `status` was stored."""
        updated = batch_pb2.Job()
        updated.CopyFrom(job)
        for attempt in range(2):
            updated.status.CopyFrom(status)
            try:
                await self.client.jobs.update_status(updated)
                return True
            except Exception as e:
                if is_not_found(e):
                    return False
                if attempt or not is_conflict(e):
                    raise
            fresh = await self.client.jobs.get(job.metadata.name, job.metadata.namespace)
            if fresh.metadata.uid != job.metadata.uid or is_finished(fresh.status):
                return False
            updated = fresh
        return False

    async def _claim_pods(self, job: batch_pb2.Job) -> list[core_pb2.Pod]:
        """The pods the job controls: its own, and matching orphans it adopts (ClaimPods)."""
        meta = job.metadata
        try:
            selector = from_label_selector_message(job.spec.selector)
        except SelectorError as e:
            log.warning("job %s/%s: invalid selector: %s", meta.namespace, meta.name, e)
            return []
        claim = PodClaim(
            self.client.pods,
            job,
            resources.JOB,
            selector,
            lambda: self.client.jobs.get(meta.name, meta.namespace),
        )
        return await claim.claim(self.pods.by_index(NAMESPACE_INDEX, meta.namespace))

    async def _manage(
        self,
        key: str,
        job: batch_pb2.Job,
        pods: Sequence[core_pb2.Pod],
        active: list[core_pb2.Pod],
        succeeded: int,
        now: float,
    ) -> tuple[int, float]:
        """Creates or deletes pods towards want_active; returns the active count it leads to and
        how long to wait before a replacement may be created (the failure back-off)."""
        want = want_active(job, len(active), succeeded)
        if len(active) > want:
            excess = order_for_deletion(active)[: min(len(active) - want, MAX_POD_CHANGES_PER_SYNC)]
            await self._delete_pods(key, job, excess)
            return len(active) - len(excess), 0.0
        if len(active) == want:
            return want, 0.0
        record = backoff_record(
            (self.finish_clock.finished_at(p) for p in pods if p.status.phase == "Succeeded"),
            (self.finish_clock.finished_at(p) for p in pods if p.status.phase == "Failed"),
        )
        wait = remaining_backoff(record, now, self.backoff, self.max_backoff)
        if wait > 0:
            return len(active), wait
        count = min(want - len(active), MAX_POD_CHANGES_PER_SYNC)
        self.expectations.expect_creations(key, count)
        created, error = await slow_start_batch(count, lambda: self._create_pod(job))
        for _ in range(count - created):
            self.expectations.creation_observed(key)  # never attempted, or failed
        if error is not None:
            raise error
        return len(active) + created, 0.0

    async def _create_pod(self, job: batch_pb2.Job) -> None:
        try:
            pod = await self.client.pods.create(new_pod(job))
        except Exception as e:
            self.recorder.record(job, WARNING, "FailedCreate", f"Error creating: {e}")
            raise
        self.recorder.record(job, NORMAL, "SuccessfulCreate", f"Created pod: {pod.metadata.name}")

    async def _delete_pods(
        self, key: str, job: batch_pb2.Job, pods: Sequence[core_pb2.Pod]
    ) -> None:
        if not pods:
            return
        self.expectations.expect_deletions(key, [pod_key(p) for p in pods])
        for pod in pods:
            try:
                await self.client.pods.delete(
                    pod.metadata.name, pod.metadata.namespace, uid=pod.metadata.uid
                )
            except Exception as e:
                self.expectations.deletion_observed(key, pod_key(pod))
                if is_not_found(e) or is_conflict(e):
                    continue  # gone already (or replaced by another pod of that name)
                raise
            self.recorder.record(
                job, NORMAL, "SuccessfulDelete", f"Deleted pod: {pod.metadata.name}"
            )
