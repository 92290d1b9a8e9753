"""The scheduler's metrics, under kube-scheduler's names (pkg/scheduler/metrics): attempts and their
latency by result and profile, the pods pending in each part of the queue, and the scheduling SLI,
from a pod's first entry into the queue to its successful bind."""

from __future__ import annotations

import functools
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from scheduler.backend.queue.scheduling_queue import SchedulingQueue

SCHEDULED, UNSCHEDULABLE, ERROR = "scheduled", "unschedulable", "error"

SCHEDULE_ATTEMPTS = Counter(
    "scheduler_schedule_attempts_total",
    "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be "
    "scheduled, while 'error' means an internal scheduler problem.",
    ["result", "profile"],
)
SCHEDULING_ATTEMPT_DURATION = Histogram(
    "scheduler_scheduling_attempt_duration_seconds",
    "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
    ["result", "profile"],
    buckets=tuple(0.001 * 2**i for i in range(15)),
)
PENDING_PODS = Gauge(
    "scheduler_pending_pods",
    "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; "
    "'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in "
    "unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number "
    "of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
    ["queue"],
)
POD_SCHEDULING_SLI_DURATION = Histogram(
    "scheduler_pod_scheduling_sli_duration_seconds",
    "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and "
    "might involve multiple scheduling attempts.",
    ["attempts"],
    buckets=tuple(0.01 * 2**i for i in range(20)),
)
POD_SCHEDULING_ATTEMPTS = Histogram(
    "scheduler_pod_scheduling_attempts",
    "Number of attempts to successfully schedule a pod.",
    buckets=(1, 2, 4, 8, 16),
)


def track_queue(queue: SchedulingQueue) -> None:
    """scheduler_pending_pods reads `queue` at each scrape (from the scrape thread: lengths
    only)."""

    def pending(name: str) -> Callable[[], float]:
        return lambda: queue.pending()[name]

    for name in ("active", "backoff", "unschedulable", "gated"):
        PENDING_PODS.labels(name).set_function(pending(name))


def attempt(result: str, profile: str, seconds: float) -> None:
    attempts, duration = _attempt_series(result, profile)
    attempts.inc()
    duration.observe(seconds)


@functools.cache
def _attempt_series(result: str, profile: str) -> tuple[Counter, Histogram]:
    """The series of one result and profile, looked up once: labels() takes a lock and builds
    its key on every call, for each pod bound."""
    return (
        SCHEDULE_ATTEMPTS.labels(result, profile),
        SCHEDULING_ATTEMPT_DURATION.labels(result, profile),
    )


def scheduled(attempts: int, seconds_since_enqueued: float) -> None:
    """A pod was bound after `attempts` attempts, this long after it first entered the queue."""
    # kube-scheduler caps the label at 15 to bound its cardinality.
    _sli_series(str(attempts) if attempts < 15 else "15+").observe(seconds_since_enqueued)
    POD_SCHEDULING_ATTEMPTS.observe(attempts)


@functools.cache
def _sli_series(attempts: str) -> Histogram:
    return POD_SCHEDULING_SLI_DURATION.labels(attempts)
