"""What one sync of a Job works out before it writes (kubernetes pkg/controller/job syncJobCtx):
the job's copy whose status is being made, its pods, and the counts, indexes and condition the
pods lead to."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.job.backoff import BackoffRecord
from controller.job.intervals import Intervals
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2


@dataclass
class JobSync:
    key: str
    job: batch_pb2.Job  # a copy: its status is what this sync writes
    pods: list[core_pb2.Pod]
    active: list[core_pb2.Pod]
    ready: int
    terminating: int
    # status.uncountedTerminatedPods as the sync found it.
    uncounted_succeeded: frozenset[str]
    uncounted_failed: frozenset[str]
    # Pods whose finalizer removal the cache does not show yet: counted already.
    expected_removals: frozenset[str]
    now: float
    stamp: str  # now, as the API writes times
    succeeded: int = 0
    failed: int = 0
    previous_succeeded_indexes: Intervals = field(default_factory=list)
    succeeded_indexes: Intervals = field(default_factory=list)
    failed_indexes: Intervals | None = None
    new_backoff: BackoffRecord = field(default_factory=BackoffRecord)
    # backoffLimitPerIndex: the failed pod of each index whose deletion waits for its replacement.
    delayed_deletion: dict[int, core_pb2.Pod] = field(default_factory=dict)
    # The condition the job is headed for: an interim one or, once known, the terminal one.
    finished: batch_pb2.JobCondition | None = None
