"""Job tracking with finalizers (kubernetes pkg/controller/job trackJobStatusAndRemoveFinalizers):
every pod the controller makes carries the batch.kubernetes.io/job-tracking finalizer, so that a
finished pod stays until it is counted. A finished pod's uid is first written to
status.uncountedTerminatedPods, then its finalizer is removed, then the uid leaves the list and
the succeeded or failed count goes up: a pod is counted once, whatever crashes in between. The
terminal condition is written once nothing is uncounted and no pod is still terminating."""

from __future__ import annotations

import logging

from controller.job import conditions, intervals
from controller.job.backoff import BackoffStore
from controller.job.pod_control import JobPodControl
from controller.job.pods import (
    completion_index,
    has_backoff_limit_per_index,
    has_tracking_finalizer,
    is_indexed,
    is_pod_failed,
    valid_index,
)
from controller.job.policies import match_pod_failure_policy
from controller.job.state import JobSync
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.client.clientset import Client
from podplane.client.events import NORMAL, WARNING, EventRecorder

log = logging.getLogger(__name__)

# The most uids .status.uncountedTerminatedPods holds (MaxUncountedPods): ~20 KB of status.
MAX_UNCOUNTED_PODS = 500


def revision(job: batch_pb2.Job) -> int | None:
    version = job.metadata.resource_version
    return int(version) if version.isdigit() else None


def clean_uncounted(status: batch_pb2.JobStatus, with_finalizer: set[str]) -> bool:
    """Counts the uncounted pods whose finalizer is gone (cleanUncountedPodsWithoutFinalizers);
    whether the status changed."""
    uncounted = status.uncounted_terminated_pods
    changed = False
    for field in ("succeeded", "failed"):
        listed = getattr(uncounted, field)
        keep = [uid for uid in listed if uid in with_finalizer]
        if len(keep) != len(listed):
            setattr(status, field, getattr(status, field) + len(listed) - len(keep))
            del listed[:]
            listed.extend(keep)
            changed = True
    return changed


def can_remove_finalizer(sync: JobSync, pod: core_pb2.Pod, failed: bool) -> bool:
    """A pod's finalizer may go once the job is being deleted or finishing, the pod has
    succeeded, or it has failed (unless its index still needs it to hand its failure count
    to a replacement)."""
    if sync.job.metadata.deletion_timestamp or sync.finished is not None:
        return True
    if pod.status.phase == "Succeeded":
        return True
    if not failed:
        return False
    if has_backoff_limit_per_index(sync.job):
        delayed = sync.delayed_deletion.get(completion_index(pod))
        if delayed is not None and delayed.metadata.uid == pod.metadata.uid:
            return False
    return True


class StatusTracker:
    def __init__(
        self,
        client: Client,
        pod_control: JobPodControl,
        backoff_store: BackoffStore,
        recorder: EventRecorder,
    ) -> None:
        self.client = client
        self.pod_control = pod_control
        self.backoff_store = backoff_store
        self.recorder = recorder
        # The resourceVersion of each job's status as this controller last wrote it: a sync of
        # an older copy from the cache would count, index and replace pods against counts the
        # job no longer has (a succeeded index made again), so it waits for the cache.
        self.written: dict[str, int] = {}

    def _count(self, sync: JobSync) -> tuple[list[core_pb2.Pod], list[int], bool, bool]:
        """The finished pods to count now, added to the uncounted lists (succeeded indexes for
        an Indexed job): (pods whose finalizer to remove, new succeeded indexes, whether the
        status changed, whether the uncounted lists are full)."""
        job, status = sync.job, sync.job.status
        uncounted = status.uncounted_terminated_pods
        indexed = is_indexed(job)
        pods = sorted(sync.pods, key=completion_index) if indexed else sync.pods
        to_remove: list[core_pb2.Pod] = []
        new_indexes: list[int] = []
        changed = full = False
        failing = (
            sync.finished is not None and sync.finished.type != conditions.SUCCESS_CRITERIA_MET
        )
        for pod in pods:
            uid = pod.metadata.uid
            if not has_tracking_finalizer(pod) or uid in sync.expected_removals:
                continue  # counted by an earlier sync
            failed = is_pod_failed(pod, job)
            if not can_remove_finalizer(sync, pod, failed):
                continue
            to_remove.append(pod)
            if pod.status.phase == "Succeeded" and uid not in sync.uncounted_failed:
                if indexed:
                    index = valid_index(job, pod)
                    if index is not None and not intervals.has(
                        sync.previous_succeeded_indexes, index
                    ):
                        new_indexes.append(index)
                        changed = True
                elif uid not in sync.uncounted_succeeded:
                    uncounted.succeeded.append(uid)
                    changed = True
            elif failed or failing:
                # A job that is failing counts every pod that did not succeed as failed.
                valid = not indexed or valid_index(job, pod) is not None
                if uid not in sync.uncounted_failed and valid:
                    if match_pod_failure_policy(job, pod).counts:
                        uncounted.failed.append(uid)
                        changed = True
            if (
                len(new_indexes) + len(uncounted.succeeded) + len(uncounted.failed)
                >= MAX_UNCOUNTED_PODS
            ):
                full = True
                break
        return to_remove, new_indexes, changed, full

    async def track(self, sync: JobSync, needs_flush: bool) -> None:
        job = sync.job
        with_finalizer = {
            p.metadata.uid
            for p in sync.pods
            if has_tracking_finalizer(p) and p.metadata.uid not in sync.expected_removals
        }
        if clean_uncounted(job.status, with_finalizer):
            needs_flush = True
        to_remove, new_indexes, changed, full = self._count(sync)
        needs_flush = needs_flush or changed
        if is_indexed(job):
            needs_flush = self._write_indexes(sync, new_indexes) or needs_flush
        finished = sync.finished
        if finished is not None and finished.type == conditions.FAILURE_TARGET:
            # The interim condition is stored before the finalizers go, the terminal one after.
            job.status.conditions.append(finished)
            needs_flush = True
            sync.finished = conditions.followed_by(finished, sync.stamp)
        elif finished is not None and finished.type == conditions.SUCCESS_CRITERIA_MET:
            if not conditions.is_true(job.status, conditions.SUCCESS_CRITERIA_MET):
                job.status.conditions.append(finished)
                needs_flush = True
            sync.finished = conditions.followed_by(finished, sync.stamp)
        needs_flush = await self._flush_and_remove_finalizers(
            sync, to_remove, with_finalizer, needs_flush
        )
        done = not full and self._enact_finished(sync)
        if needs_flush or done:
            await self._write(sync)
            if done and sync.finished is not None:
                self._record_finished(sync.job, sync.finished)

    def _write_indexes(self, sync: JobSync, new_indexes: list[int]) -> bool:
        status = sync.job.status
        changed = False
        sync.succeeded_indexes = intervals.with_indexes(sync.succeeded_indexes, new_indexes)
        completed = intervals.text(sync.succeeded_indexes)
        if completed != status.completed_indexes:
            changed = True
        status.succeeded = intervals.total(sync.succeeded_indexes)
        status.completed_indexes = completed
        if sync.failed_indexes is not None:
            failed = intervals.text(sync.failed_indexes)
            if not status.HasField("failed_indexes") or status.failed_indexes != failed:
                status.failed_indexes = failed
                changed = True
        elif status.HasField("failed_indexes"):
            status.ClearField("failed_indexes")
            changed = True
        return changed

    async def _write(self, sync: JobSync) -> None:
        sync.job = await self.client.jobs.update_status(sync.job)
        version = revision(sync.job)
        if version is not None:
            self.written[sync.job.metadata.uid] = version

    def behind(self, cached: batch_pb2.Job) -> bool:
        """Whether the cached job is older than this controller's last write of it."""
        uid = cached.metadata.uid
        written, version = self.written.get(uid), revision(cached)
        if written is None or version is None:
            return False
        if version >= written:
            del self.written[uid]
            return False
        return True

    def forget(self, uid: str) -> None:
        self.written.pop(uid, None)

    async def _flush_and_remove_finalizers(
        self,
        sync: JobSync,
        to_remove: list[core_pb2.Pod],
        with_finalizer: set[str],
        needs_flush: bool,
    ) -> bool:
        """flushUncountedAndRemoveFinalizers: the uncounted uids are stored before any
        finalizer goes; then the pods whose finalizer is gone are counted. Whether the status
        still has changes to write."""
        if needs_flush:
            await self._write(sync)
            self.backoff_store.update(sync.key, sync.new_backoff)
            needs_flush = False
        error: Exception | None = None
        if to_remove:
            removed, error = await self.pod_control.remove_finalizers(sync.key, to_remove)
            for pod, ok in zip(to_remove, removed, strict=True):
                if ok:
                    with_finalizer.discard(pod.metadata.uid)
        if clean_uncounted(sync.job.status, with_finalizer):
            needs_flush = True
        if error is not None:
            if needs_flush:
                await self._write(sync)  # what was removed is counted; the rest waits
            raise error
        return needs_flush

    def _enact_finished(self, sync: JobSync) -> bool:
        """The terminal condition, once no pod is uncounted and none is still terminating."""
        finished, status = sync.finished, sync.job.status
        if finished is None:
            return False
        uncounted = status.uncounted_terminated_pods
        if uncounted.succeeded or uncounted.failed or sync.terminating > 0:
            return False
        conditions.ensure(
            status, finished.type, finished.status, finished.reason, finished.message, sync.stamp
        )
        if finished.type == conditions.COMPLETE:
            status.completion_time = sync.stamp
        return True

    def _record_finished(self, job: batch_pb2.Job, finished: batch_pb2.JobCondition) -> None:
        if finished.type == conditions.COMPLETE:
            if job.spec.HasField("completions") and job.status.succeeded > job.spec.completions:
                self.recorder.record(
                    job,
                    WARNING,
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                )
            self.recorder.record(job, NORMAL, "Completed", "Job completed")
        else:
            self.recorder.record(job, WARNING, finished.reason, finished.message)
