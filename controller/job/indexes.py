"""An Indexed job's completion indexes (kubernetes pkg/controller/job/indexed_job_utils.go): the
succeeded and failed indexes, which indexes still need a pod, which pods hold a duplicated index,
and, with backoffLimitPerIndex, the failed pod of each index whose deletion waits until its
replacement has inherited its failure count."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from controller.framework.pod_ordering import order_for_deletion
from controller.job import intervals
from controller.job.backoff import finished_time
from controller.job.intervals import Intervals
from controller.job.pods import (
    UNKNOWN_INDEX,
    completion_index,
    has_tracking_finalizer,
    index_failure_count,
    index_ignored_failure_count,
    is_pod_failed,
    is_terminating,
    only_replace_failed_pods,
    valid_index,
)
from controller.job.policies import FAIL_INDEX, match_pod_failure_policy
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2


def succeeded_indexes(
    job: batch_pb2.Job, pods: Sequence[core_pb2.Pod]
) -> tuple[Intervals, Intervals]:
    """(as the status has them, with those succeeded since): a succeeded pod still holding the
    tracking finalizer is not counted yet."""
    completions = job.spec.completions
    before = intervals.parse_indexes(job.status.completed_indexes, completions)
    new = [
        i
        for p in pods
        if p.status.phase == "Succeeded"
        and has_tracking_finalizer(p)
        and (i := valid_index(job, p)) is not None
    ]
    return before, intervals.with_indexes(before, new)


def is_index_failed(job: batch_pb2.Job, pod: core_pb2.Pod) -> bool:
    """The pod fails its index: a FailIndex rule matched, or a counted failure reached
    backoffLimitPerIndex."""
    if not is_pod_failed(pod, job):
        return False
    match = match_pod_failure_policy(job, pod)
    if match.action == FAIL_INDEX:
        return True
    return match.counts and index_failure_count(pod) >= job.spec.backoff_limit_per_index


def failed_indexes(job: batch_pb2.Job, pods: Sequence[core_pb2.Pod]) -> Intervals:
    """status.failedIndexes with the indexes failed since."""
    before = intervals.parse_indexes(job.status.failed_indexes, job.spec.completions)
    new = [
        i
        for p in pods
        if has_tracking_finalizer(p)
        and (i := valid_index(job, p)) is not None
        and is_index_failed(job, p)
    ]
    return intervals.with_indexes(before, new)


def _indexes_of(pods: Sequence[core_pb2.Pod]) -> set[int]:
    return {i for p in pods if (i := completion_index(p)) != UNKNOWN_INDEX}


def first_pending_indexes(
    job: batch_pb2.Job,
    pods: Sequence[core_pb2.Pod],
    active: Sequence[core_pb2.Pod],
    succeeded: Intervals,
    failed: Intervals | None,
    count: int,
) -> list[int]:
    """The first `count` indexes that no active pod holds, that have not succeeded or failed,
    and (replacing only failed pods) that no terminating pod still holds."""
    taken = intervals.with_indexes(succeeded, _indexes_of(active))
    if only_replace_failed_pods(job):
        taken = intervals.with_indexes(taken, _indexes_of([p for p in pods if is_terminating(p)]))
    if failed is not None:
        taken = intervals.merge(taken, failed)
    out: list[int] = []
    candidate = 0
    for first, last in [*taken, (job.spec.completions, job.spec.completions)]:
        while candidate < min(first, job.spec.completions) and len(out) < count:
            out.append(candidate)
            candidate += 1
        candidate = max(candidate, last + 1)
    return out


def duplicated_for_removal(
    pods: Sequence[core_pb2.Pod], completions: int
) -> tuple[list[core_pb2.Pod], list[core_pb2.Pod]]:
    """(to remove, to keep) among active pods: those without a valid index, and all but one of
    each index held twice (the one furthest along is kept)."""
    remove: list[core_pb2.Pod] = []
    keep: list[core_pb2.Pod] = []
    by_index: dict[int, list[core_pb2.Pod]] = {}
    for pod in pods:
        index = completion_index(pod)
        if index == UNKNOWN_INDEX or index >= completions:
            remove.append(pod)
        else:
            by_index.setdefault(index, []).append(pod)
    for index in sorted(by_index):
        ordered = order_for_deletion(by_index[index])
        remove += ordered[:-1]
        keep.append(ordered[-1])
    return remove, keep


def delayed_deletion_per_index(
    job: batch_pb2.Job,
    pods: Sequence[core_pb2.Pod],
    active: Sequence[core_pb2.Pod],
    succeeded: Intervals,
    failed: Intervals,
    expected_removals: Collection[str],
) -> dict[int, core_pb2.Pod]:
    """getPodsWithDelayedDeletionPerIndex: for each index without an active pod and not yet
    succeeded or failed, its latest failed pod, which keeps its finalizer until a replacement
    carries its failure count."""
    active_indexes = _indexes_of(active)
    out: dict[int, core_pb2.Pod] = {}
    for pod in pods:
        if not has_tracking_finalizer(pod) or pod.metadata.uid in expected_removals:
            continue
        index = valid_index(job, pod)
        if index is None or not is_pod_failed(pod, job):
            continue
        if (
            intervals.has(succeeded, index)
            or intervals.has(failed, index)
            or index in active_indexes
        ):
            continue
        last = out.get(index)
        if last is None or (
            _absolute_failures(last) <= _absolute_failures(pod)
            and (finished_time(pod) or 0.0) >= (finished_time(last) or 0.0)
        ):
            out[index] = pod
    return out


def _absolute_failures(pod: core_pb2.Pod) -> int:
    return index_failure_count(pod) + index_ignored_failure_count(pod)


def new_index_failure_counts(job: batch_pb2.Job, replaced: core_pb2.Pod | None) -> tuple[int, int]:
    """The failure counts a replacement pod starts with: its predecessor's, plus its failure
    (ignored, if an Ignore rule matched it)."""
    if replaced is None:
        return 0, 0
    failed, ignored = index_failure_count(replaced), index_ignored_failure_count(replaced)
    if match_pod_failure_policy(job, replaced).counts:
        return failed + 1, ignored
    return failed, ignored + 1
