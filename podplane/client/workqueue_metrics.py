"""client-go's work queue metrics (k8s.io/client-go/util/workqueue) under Kubernetes' names, so
its dashboards and alerts read them unchanged."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

import prometheus_client
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

K = TypeVar("K")


# client-go: ExponentialBuckets(10e-9, 10, 10), 10 ns to 10 s.
WORKQUEUE_DURATION_BUCKETS = tuple(10e-9 * 10**i for i in range(10))

WORKQUEUE_DEPTH = Gauge("workqueue_depth", "Current depth of workqueue", ["name"])
WORKQUEUE_ADDS = Counter(
    "workqueue_adds_total", "Total number of adds handled by workqueue", ["name"]
)
WORKQUEUE_QUEUE_DURATION = Histogram(
    "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested.",
    ["name"],
    buckets=WORKQUEUE_DURATION_BUCKETS,
)
WORKQUEUE_WORK_DURATION = Histogram(
    "workqueue_work_duration_seconds",
    "How long in seconds processing an item from workqueue takes.",
    ["name"],
    buckets=WORKQUEUE_DURATION_BUCKETS,
)
WORKQUEUE_RETRIES = Counter(
    "workqueue_retries_total", "Total number of retries handled by workqueue", ["name"]
)


class QueueMetrics(Generic[K]):
    """What one named work queue reports: depth and adds on add, the time queued on get, the time
    worked on done, retries on a rate-limited add."""

    def __init__(self, name: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self._depth = WORKQUEUE_DEPTH.labels(name)
        self._adds = WORKQUEUE_ADDS.labels(name)
        self._queue_duration = WORKQUEUE_QUEUE_DURATION.labels(name)
        self._work_duration = WORKQUEUE_WORK_DURATION.labels(name)
        self._retries = WORKQUEUE_RETRIES.labels(name)
        self._added_at: dict[K, float] = {}
        self._started_at: dict[K, float] = {}
        _unfinished_work.track(self)

    def add(self, key: K) -> None:
        self._adds.inc()
        self._depth.inc()
        self._added_at.setdefault(key, self._clock())

    def get(self, key: K) -> None:
        now = self._clock()
        self._depth.dec()
        self._started_at[key] = now
        added = self._added_at.pop(key, None)
        if added is not None:
            self._queue_duration.observe(now - added)

    def done(self, key: K) -> None:
        started = self._started_at.pop(key, None)
        if started is not None:
            self._work_duration.observe(self._clock() - started)

    def retry(self) -> None:
        self._retries.inc()

    def processing_seconds(self) -> list[float]:
        """How long each key being processed has been; read from the scrape thread."""
        now = self._clock()
        return [now - t for t in list(self._started_at.values())]


class _InProgress(Protocol):
    """What the collector reads of a queue's metrics, whatever the queue's keys."""

    @property
    def name(self) -> str: ...

    def processing_seconds(self) -> list[float]: ...


class _UnfinishedWork(Collector):
    """workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds, computed
    at scrape time from the live queues."""

    def __init__(self) -> None:
        self._queues: weakref.WeakSet[_InProgress] = weakref.WeakSet()
        self._lock = threading.Lock()

    def track(self, queue: _InProgress) -> None:
        with self._lock:
            self._queues.add(queue)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            queues = list(self._queues)
        unfinished = GaugeMetricFamily(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been observed "
            "by work_duration. Large values indicate stuck threads.",
            labels=["name"],
        )
        longest = GaugeMetricFamily(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.",
            labels=["name"],
        )
        by_name: dict[str, list[float]] = {}
        for q in queues:
            by_name.setdefault(q.name, []).extend(q.processing_seconds())
        for name, seconds in sorted(by_name.items()):
            unfinished.add_metric([name], sum(seconds))
            longest.add_metric([name], max(seconds, default=0.0))
        yield unfinished
        yield longest


_unfinished_work = _UnfinishedWork()
prometheus_client.REGISTRY.register(_unfinished_work)
