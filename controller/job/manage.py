"""How many pods a Job runs and which go (kubernetes pkg/controller/job manageJob,
activePodsForRemoval): min(parallelism, completions - succeeded) active pods, none while
suspended; replacements wait out the failure back-off (per index with backoffLimitPerIndex) and,
with podReplacementPolicy Failed, for terminating pods to finish; an Indexed job gets the first
pending indexes and loses the pods of duplicated indexes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from controller.framework.pod_ordering import order_for_deletion
from controller.job.backoff import FinishClock, remaining_backoff, remaining_for_index
from controller.job.indexes import (
    duplicated_for_removal,
    first_pending_indexes,
    new_index_failure_counts,
)
from controller.job.pod_control import JobPodControl
from controller.job.pods import (
    has_backoff_limit_per_index,
    index_failure_count,
    index_ignored_failure_count,
    is_indexed,
    only_replace_failed_pods,
)
from controller.job.state import JobSync
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2

# At most this many pods are created or deleted per sync (MaxPodCreateDeletePerSync).
MAX_POD_CHANGES_PER_SYNC = 500


@dataclass(frozen=True)
class Backoff:
    base: float
    cap: float


def want_active(job: batch_pb2.Job, active: int, succeeded: int) -> int:
    """min(parallelism, completions - succeeded); a job without completions (a work queue) runs
    `parallelism` until one pod succeeds, then lets the rest finish."""
    parallelism = job.spec.parallelism
    if not job.spec.HasField("completions"):
        return active if succeeded > 0 else parallelism
    return max(0, min(job.spec.completions - succeeded, parallelism))


def active_pods_for_removal(
    job: batch_pb2.Job, active: Sequence[core_pb2.Pod], at_least: int
) -> list[core_pb2.Pod]:
    """Pods of duplicated or invalid indexes, then the least advanced, to `at_least`."""
    remove, left = (
        duplicated_for_removal(active, job.spec.completions)
        if is_indexed(job)
        else ([], list(active))
    )
    if len(remove) < at_least:
        remove += order_for_deletion(left)[: at_least - len(remove)]
    return remove


class JobManager:
    def __init__(self, pod_control: JobPodControl, finish_clock: FinishClock, backoff: Backoff):
        self.pod_control = pod_control
        self.finish_clock = finish_clock
        self.backoff = backoff

    async def manage(self, sync: JobSync) -> tuple[int, float | None, Exception | None]:
        """Creates or deletes pods; (the active count it leads to, seconds until a replacement
        may be created, an error)."""
        job, key = sync.job, sync.key
        active = len(sync.active)
        if job.spec.suspend:
            return await self._delete(sync, active_pods_for_removal(job, sync.active, active))
        want = want_active(job, active, sync.succeeded)
        excess = active_pods_for_removal(job, sync.active, max(active - want, 0))
        if excess:
            return await self._delete(sync, excess[:MAX_POD_CHANGES_PER_SYNC])
        terminating = sync.terminating if only_replace_failed_pods(job) else 0
        missing = want - terminating - active
        if missing <= 0:
            return active, None, None
        per_index = has_backoff_limit_per_index(job)
        if not per_index:
            wait = remaining_backoff(
                sync.new_backoff, sync.now, self.backoff.base, self.backoff.cap
            )
            if wait > 0:
                return active, wait, None
        missing = min(missing, MAX_POD_CHANGES_PER_SYNC)
        indexes: list[int] | None = None
        counts: dict[int, tuple[int, int]] | None = None
        if is_indexed(job):
            indexes = first_pending_indexes(
                job, sync.pods, sync.active, sync.succeeded_indexes, sync.failed_indexes, missing
            )
            if per_index:
                indexes, wait = self._ready_indexes(sync, indexes)
                if not indexes:
                    return active, wait, None
                counts = {
                    i: new_index_failure_counts(job, sync.delayed_deletion.get(i)) for i in indexes
                }
            missing = len(indexes)
        if missing <= 0:
            return active, None, None
        created, error = await self.pod_control.create_pods(key, job, missing, indexes, counts)
        return active + created, None, error

    def _ready_indexes(self, sync: JobSync, indexes: list[int]) -> tuple[list[int], float]:
        """The indexes whose back-off is over; else the shortest wait
        (getPodCreationInfoForIndependentIndexes)."""
        ready: list[int] = []
        waits: list[float] = []
        for index in indexes:
            last = sync.delayed_deletion.get(index)
            wait = 0.0
            if last is not None:
                failures = index_failure_count(last) + index_ignored_failure_count(last) + 1
                wait = remaining_for_index(
                    failures,
                    self.finish_clock.finished_at(last),
                    sync.now,
                    self.backoff.base,
                    self.backoff.cap,
                )
            if wait <= 0:
                ready.append(index)
            else:
                waits.append(wait)
        return ready, (0.0 if ready else min(waits, default=0.0))

    async def _delete(
        self, sync: JobSync, pods: list[core_pb2.Pod]
    ) -> tuple[int, float | None, Exception | None]:
        if not pods:
            return len(sync.active), None, None
        ready, deleted, error = await self.pod_control.delete_job_pods(sync.key, sync.job, pods)
        sync.terminating += deleted
        sync.ready -= ready
        return len(sync.active) - deleted, None, error
