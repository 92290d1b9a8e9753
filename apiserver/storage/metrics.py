"""etcd's metrics, under kube-apiserver's names (k8s.io/apiserver/pkg/storage/etcd3/metrics): the
latency of each request by operation and object type, and the database's size."""

from __future__ import annotations

import time
from types import TracebackType

from prometheus_client import Gauge, Histogram

# kube-apiserver's buckets for apiserver_request_duration_seconds and etcd_request_duration_seconds.
DURATION_BUCKETS = (
    0.005,
    0.025,
    0.05,
    0.1,
    0.2,
    0.4,
    0.6,
    0.8,
    1.0,
    1.25,
    1.5,
    2.0,
    3.0,
    4.0,
    5.0,
    6.0,
    8.0,
    10.0,
    15.0,
    20.0,
    30.0,
    45.0,
    60.0,
)

ETCD_REQUEST_DURATION = Histogram(
    "etcd_request_duration_seconds",
    "Etcd request latency in seconds for each operation and object type.",
    ["operation", "type"],
    buckets=DURATION_BUCKETS,
)
ETCD_DB_SIZE = Gauge(
    "etcd_db_total_size_in_bytes",
    "Total size of the etcd database file physically allocated in bytes.",
    ["endpoint"],
)


def storage_type(key: bytes) -> str:
    """The object type of an etcd key: b"/registry/pods/default/x" -> "pods"."""
    parts = key.split(b"/", 3)
    if len(parts) >= 3 and parts[0] == b"" and parts[1] == b"registry" and parts[2]:
        return parts[2].decode("utf-8", "replace")
    return "unknown"


# etcd_request_duration_seconds' series by (operation, key prefix), each looked up once.
_ETCD_DURATIONS: dict[tuple[str, bytes], Histogram] = {}


def _etcd_duration(operation: str, key: bytes) -> Histogram:
    # Keyed by /registry/<type>/ (or the whole key when it ends before that slash): a handful per
    # operation. Other keys are all of type "unknown".
    if key.startswith(b"/registry/"):
        end = key.find(b"/", len(b"/registry/"))
        prefix = key if end < 0 else key[: end + 1]
    else:
        prefix = b""
    series = _ETCD_DURATIONS.get((operation, prefix))
    if series is None:
        series = _ETCD_DURATIONS[operation, prefix] = ETCD_REQUEST_DURATION.labels(
            operation, storage_type(key)
        )
    return series


class _Timed:
    """A block timed into one series, failed or not (a class: a generator's context manager
    cost every etcd call half as much again)."""

    __slots__ = ("_series", "_start")

    def __init__(self, series: Histogram) -> None:
        self._series = series
        self._start = 0.0

    def __enter__(self) -> None:
        self._start = time.monotonic()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._series.observe(time.monotonic() - self._start)


def etcd_request(operation: str, key: bytes) -> _Timed:
    """Times the block into etcd_request_duration_seconds{operation, type}, failed or not."""
    return _Timed(_etcd_duration(operation, key))
