"""The CronJob controller (kubernetes pkg/controller/cronjob, the v2 controller): at each time its
schedule names, a CronJob creates a Job from its template, named <cronjob>-<minutes since the
epoch> so that a time is never run twice; it keeps the running ones in status.active,
lastScheduleTime and lastSuccessfulTime, applies the concurrency policy (Allow, Forbid: skip
while one runs, Replace: delete the running ones first), skips times past
startingDeadlineSeconds, stops while suspended, deletes the oldest finished Jobs beyond the
history limits, and looks at the CronJob again just after its next scheduled time."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from controller.cronjob import jobs as cron_jobs
from controller.cronjob.schedule import (
    InvalidSchedule,
    Missed,
    most_recent_schedule_time,
    next_schedule_delay,
    parse,
)
from controller.framework.controller_ref import controller_of
from controller.framework.reconciler import ReconcileLoop
from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery import resources, timeutil
from podplane.apimachinery.cron import CronError, Schedule, UnknownTimeZone, load_location
from podplane.client.clientset import Client, is_already_exists, is_not_found
from podplane.client.events import NORMAL, WARNING, EventRecorder
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

# Go's time.RFC1123Z, which the MissSchedule event writes the missed time in.
RFC1123Z = "%a, %d %b %Y %H:%M:%S %z"


class CronJobController:
    def __init__(
        self,
        client: Client,
        informers: SharedInformerFactory,
        *,
        workers: int = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._clock = clock
        self.cron_jobs: Informer[batch_pb2.CronJob] = informers.informer_for(resources.CRON_JOB)
        self.jobs: Informer[batch_pb2.Job] = informers.informer_for(resources.JOB)
        self.jobs.add_index(NAMESPACE_INDEX, namespace_of)
        self.recorder = EventRecorder(client, "cronjob-controller")
        self.loop = ReconcileLoop(
            "cronjob", self.reconcile, informers, [self.cron_jobs, self.jobs], workers=workers
        )
        self.cron_jobs.add_handler(
            on_add=self._enqueue, on_update=lambda _old, new: self._enqueue(new)
        )
        self.jobs.add_handler(
            on_add=self._job_changed,
            on_update=self._job_updated,
            on_delete=self._job_changed,
        )

    async def run(self) -> None:
        await self.loop.run()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    # ------------------------------------------------------------------ handlers: keys only
    def _enqueue(self, cron_job: batch_pb2.CronJob) -> None:
        self.loop.enqueue(f"{cron_job.metadata.namespace}/{cron_job.metadata.name}")

    def _job_changed(self, job: batch_pb2.Job) -> None:
        ref = controller_of(job)
        if ref is not None and ref.kind == resources.CRON_JOB.kind:
            self.loop.enqueue(f"{job.metadata.namespace}/{ref.name}")

    def _job_updated(self, old: batch_pb2.Job, new: batch_pb2.Job) -> None:
        if old.metadata.resource_version == new.metadata.resource_version:
            return
        if controller_of(old) != controller_of(new):
            self._job_changed(old)
        self._job_changed(new)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        cached = self.cron_jobs.get(key)
        if cached is None:
            return None
        namespace = cached.metadata.namespace
        children = [
            j
            for j in self.jobs.by_index(NAMESPACE_INDEX, namespace)
            if cron_jobs.controls(cached, j)
        ]
        # One copy gathers every change; the status is written once.
        cron_job = batch_pb2.CronJob()
        cron_job.CopyFrom(cached)
        changed = await self._trim_history(cron_job, children)
        sync_error: Exception | None = None
        requeue: float | None = None
        try:
            requeue, synced = await self._sync(cron_job, children)
            changed = changed or synced
        except Exception as e:  # noqa: BLE001 - the status below is still written
            sync_error, changed = e, True
        if changed and cron_job.status != cached.status:
            await self.client.cronjobs.update_status(cron_job)
        if requeue is not None:
            return requeue
        if sync_error is not None:
            raise sync_error
        return None

    async def _sync(
        self, cron_job: batch_pb2.CronJob, children: list[batch_pb2.Job]
    ) -> tuple[float | None, bool]:
        """syncCronJob: the requeue delay (None: only a change to the CronJob can help) and
        whether the status changed."""
        changed = await self._observe_children(cron_job, children)
        spec = cron_job.spec
        if cron_job.metadata.deletion_timestamp:
            return None, changed
        if spec.HasField("time_zone"):
            try:
                load_location(spec.time_zone)
            except UnknownTimeZone as e:
                self._event(
                    cron_job,
                    WARNING,
                    "UnknownTimeZone",
                    f'invalid timeZone: "{spec.time_zone}": {e}',
                )
                return None, changed
        if spec.suspend:
            return None, changed
        if "TZ" in spec.schedule:
            self._event(
                cron_job,
                WARNING,
                "UnsupportedSchedule",
                f'CRON_TZ or TZ used in schedule "{spec.schedule}" is not officially supported, '
                "see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for "
                "more details",
            )
        try:
            schedule = parse(cron_job)
        except CronError as e:
            self._event(
                cron_job,
                WARNING,
                "UnparseableSchedule",
                f'unparseable schedule: "{spec.schedule}" : {e}',
            )
            return None, changed
        now = self.now()
        try:
            scheduled = self._next_scheduled_time(cron_job, now, schedule)
        except InvalidSchedule as e:
            self._event(
                cron_job, WARNING, "InvalidSchedule", f"invalid schedule: {spec.schedule} : {e}"
            )
            return None, changed
        if scheduled is None:
            return next_schedule_delay(cron_job, now, schedule), changed
        deadline = (
            spec.starting_deadline_seconds if spec.HasField("starting_deadline_seconds") else None
        )
        if deadline is not None and scheduled + timedelta(seconds=deadline) < now:
            self._event(
                cron_job,
                WARNING,
                "MissSchedule",
                f"Missed scheduled time to start a job: {scheduled.strftime(RFC1123Z)}",
            )
            return next_schedule_delay(cron_job, now, schedule), changed
        name = cron_jobs.job_from_template(cron_job, scheduled).metadata.name
        already = any(ref.name == name for ref in cron_job.status.active) or (
            timeutil.parse(cron_job.status.last_schedule_time) == scheduled
        )
        if already:
            return next_schedule_delay(cron_job, now, schedule), changed
        if spec.concurrency_policy == "Forbid" and cron_job.status.active:
            self._event(
                cron_job,
                NORMAL,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is "
                "Forbid",
            )
            return next_schedule_delay(cron_job, now, schedule), changed
        if spec.concurrency_policy == "Replace":
            changed = await self._replace_active(cron_job) or changed
        created = await self._create_job(cron_job, scheduled)
        if created is None:
            return None, changed
        cron_job.status.active.append(cron_jobs.reference(created))
        cron_job.status.last_schedule_time = timeutil.format_time(scheduled)
        return next_schedule_delay(cron_job, now, schedule), True

    def _next_scheduled_time(
        self, cron_job: batch_pb2.CronJob, now: datetime, schedule: Schedule
    ) -> datetime | None:
        """The latest scheduled time due and not yet run (nextScheduleTime)."""
        recent = most_recent_schedule_time(cron_job, now, schedule, True)
        if recent.most_recent is None or recent.most_recent > now:
            return None
        if recent.missed is Missed.MANY:
            self._event(
                cron_job,
                WARNING,
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or "
                "check clock skew",
            )
        return recent.most_recent

    async def _observe_children(
        self, cron_job: batch_pb2.CronJob, children: list[batch_pb2.Job]
    ) -> bool:
        """The active list and lastSuccessfulTime from the Jobs the CronJob controls."""
        changed = False
        for job in children:
            uid = job.metadata.uid
            finished = cron_jobs.finished_condition(job)
            active = cron_jobs.in_active_list(cron_job, uid)
            if not active and finished is None:
                fresh = await self.client.cronjobs.get(
                    cron_job.metadata.name, cron_job.metadata.namespace
                )
                if cron_jobs.in_active_list(fresh, uid):
                    cron_job.CopyFrom(fresh)  # our own status write, not seen yet
                    continue
                self._event(
                    cron_job,
                    WARNING,
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {job.metadata.name}",
                )
            elif active and finished is not None:
                cron_jobs.remove_from_active_list(cron_job, uid)
                self._event(
                    cron_job,
                    NORMAL,
                    "SawCompletedJob",
                    f"Saw completed job: {job.metadata.name}, condition: {finished}",
                )
                changed = True
            if finished == cron_jobs.COMPLETE and job.status.completion_time:
                completed = timeutil.parse(job.status.completion_time)
                last = timeutil.parse(cron_job.status.last_successful_time)
                if completed is not None and (last is None or completed > last):
                    cron_job.status.last_successful_time = job.status.completion_time
                    changed = True
        # Jobs gone from the cache: gone for good only if the apiserver says so.
        known = {j.metadata.uid for j in children}
        for ref in list(cron_job.status.active):
            if ref.uid in known:
                continue
            try:
                await self.client.jobs.get(ref.name, ref.namespace)
            except Exception as e:
                if not is_not_found(e):
                    raise
                self._event(cron_job, NORMAL, "MissingJob", f"Active job went missing: {ref.name}")
                cron_jobs.remove_from_active_list(cron_job, ref.uid)
                changed = True
        return changed

    async def _replace_active(self, cron_job: batch_pb2.CronJob) -> bool:
        """Replace: the running Jobs are deleted before the new one is created."""
        changed = False
        for ref in list(cron_job.status.active):
            try:
                job = await self.client.jobs.get(ref.name, ref.namespace)
            except Exception as e:
                self._event(cron_job, WARNING, "FailedGet", f"Get job: {e}")
                raise
            if not await self._delete_job(cron_job, job):
                raise RuntimeError(f"could not replace job {ref.namespace}/{ref.name}")
            changed = True
        return changed

    async def _create_job(
        self, cron_job: batch_pb2.CronJob, scheduled: datetime
    ) -> batch_pb2.Job | None:
        """The Job of the scheduled time, created or, if it exists, found; None if it exists
        but is not this CronJob's, or is already in the active list."""
        request = cron_jobs.job_from_template(cron_job, scheduled)
        try:
            created = await self.client.jobs.create(request)
        except Exception as e:
            if not is_already_exists(e):
                self._event(cron_job, WARNING, "FailedCreate", f"Error creating job: {e}")
                raise
            existing = await self.client.jobs.get(request.metadata.name, request.metadata.namespace)
            ref = controller_of(existing)
            if ref is None or ref.uid != cron_job.metadata.uid:
                return None
            if cron_jobs.in_active_list(cron_job, existing.metadata.uid):
                return None
            log.info(
                "cronjob %s: job %s already exists", cron_job.metadata.name, request.metadata.name
            )
            return existing
        self._event(cron_job, NORMAL, "SuccessfulCreate", f"Created job {created.metadata.name}")
        return created

    async def _trim_history(
        self, cron_job: batch_pb2.CronJob, children: list[batch_pb2.Job]
    ) -> bool:
        """cleanupFinishedJobs: the oldest finished Jobs beyond successfulJobsHistoryLimit and
        failedJobsHistoryLimit are deleted."""
        spec = cron_job.spec
        changed = False
        for condition, field in (
            (cron_jobs.COMPLETE, "successful_jobs_history_limit"),
            (cron_jobs.FAILED, "failed_jobs_history_limit"),
        ):
            if not spec.HasField(field):
                continue
            finished = [j for j in children if cron_jobs.finished_condition(j) == condition]
            excess = len(finished) - getattr(spec, field)
            for job in cron_jobs.oldest_first(finished)[: max(excess, 0)]:
                changed = await self._delete_job(cron_job, job) or changed
        return changed

    async def _delete_job(self, cron_job: batch_pb2.CronJob, job: batch_pb2.Job) -> bool:
        try:
            await self.client.jobs.delete(
                job.metadata.name, job.metadata.namespace, propagation_policy="Background"
            )
        except Exception as e:  # noqa: BLE001 - an event and a later retry, as Kubernetes does
            if not is_not_found(e):
                self._event(cron_job, WARNING, "FailedDelete", f"Deleted job: {e}")
                log.warning(
                    "cronjob %s: deleting job %s: %s", cron_job.metadata.name, job.metadata.name, e
                )
                return False
        cron_jobs.remove_from_active_list(cron_job, job.metadata.uid)
        self._event(cron_job, NORMAL, "SuccessfulDelete", f"Deleted job {job.metadata.name}")
        return True

    def _event(self, cron_job: batch_pb2.CronJob, type_: str, reason: str, message: str) -> None:
        self.recorder.record(cron_job, type_, reason, message)
