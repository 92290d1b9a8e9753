"""The Job controller's failure back-off (kubernetes pkg/controller/job/backoff_utils.go): when each
of a job's pods finished, how many failed since the last success (kept per job as pods are
counted, since a counted pod may be gone), how long to wait before the next replacement pod, and,
with backoffLimitPerIndex, before an index's next pod."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil


@dataclass(frozen=True)
class BackoffRecord:
    failures_after_last_success: int = 0
    last_failure_time: float | None = None  # seconds since the epoch


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """base, doubling with each consecutive failure after the first, capped: 10 s, 20 s, 40 s, ...
    6 min with Kubernetes' defaults."""
    if failures <= 0:
        return 0.0
    return float(min(base * 2 ** (failures - 1), cap))


def remaining_backoff(record: BackoffRecord, now: float, base: float, cap: float) -> float:
    """Seconds to wait before creating a replacement pod (0: create now)."""
    if record.failures_after_last_success == 0 or record.last_failure_time is None:
        return 0.0
    delay = backoff_delay(record.failures_after_last_success, base, cap)
    return max(0.0, record.last_failure_time + delay - now)


def _timestamp(value: str) -> float | None:
    t = timeutil.parse(value)
    return t.timestamp() if t is not None else None


def finished_time(pod: core_pb2.Pod) -> float | None:
    """When the pod finished, from the API alone (getFinishedTime): the latest container
    termination when every container has terminated, else a Ready=False transition, else the
    moment of deletion; None when the pod tells nothing."""
    finished: list[float] = []
    for status in pod.status.container_statuses:
        t = _timestamp(status.state.terminated.finished_at)
        if t is None:
            finished = []
            break
        finished.append(t)
    if finished:
        return max(finished)
    for c in pod.status.conditions:
        if c.type == "Ready" and c.status == "False":
            if (t := _timestamp(c.last_transition_time)) is not None:
                return t
    if pod.metadata.deletion_timestamp:
        deleted = _timestamp(pod.metadata.deletion_timestamp)
        if deleted is not None:
            return deleted - float(pod.metadata.deletion_grace_period_seconds)
    return None


class FinishClock:
    """Pods' finish times. API timestamps have second precision; the moment this controller first
    saw a pod finished refines that within its second, and stands in when the pod tells nothing
    (Kubernetes falls back to the creation time, which would make the back-off too short)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}

    def finished_at(self, pod: core_pb2.Pod) -> float:
        seen = self._seen.setdefault(pod.metadata.uid, self._clock())
        reported = finished_time(pod)
        if reported is None:
            return seen
        return max(reported, min(seen, reported + 1.0))

    def forget(self, uids: Iterable[str]) -> None:
        for uid in uids:
            self._seen.pop(uid, None)


def next_record(
    previous: BackoffRecord, succeeded: Iterable[float], failed: Iterable[float]
) -> BackoffRecord:
    """The record once the newly finished pods are counted (newBackoffRecord): a success
    resets it to the failures after the latest success; failures alone add up."""
    last_success = max(succeeded, default=None)
    failures = sorted(failed)
    if last_success is None:
        if not failures:
            return previous
        return BackoffRecord(previous.failures_after_last_success + len(failures), failures[-1])
    after = [t for t in failures if t > last_success]
    if not after:
        return BackoffRecord()
    return BackoffRecord(len(after), after[-1])


class BackoffStore:
    """Each job's record, kept across syncs and updated when its new pods are counted."""

    def __init__(self) -> None:
        self._records: dict[str, BackoffRecord] = {}

    def get(self, key: str) -> BackoffRecord:
        return self._records.get(key, BackoffRecord())

    def update(self, key: str, record: BackoffRecord) -> None:
        self._records[key] = record

    def remove(self, key: str) -> None:
        self._records.pop(key, None)


def remaining_for_index(
    failures: int, last_failure: float, now: float, base: float, cap: float
) -> float:
    """Seconds before an index whose pods failed `failures` times, the last at `last_failure`,
    gets its next pod (getRemainingTimePerIndex)."""
    return max(0.0, last_failure + backoff_delay(failures, base, cap) - now)
