"""Prometheus metrics every component shares: the HTTP /metrics endpoint, and client-go's work queue
and REST client metrics (k8s.io/client-go/util/workqueue, k8s.io/client-go/tools/metrics) under
Kubernetes' names, so its dashboards and alerts read them unchanged.

Metrics live in prometheus_client's default registry, one per process; the endpoint serves it from
a daemon thread, so a scrape never waits for the event loop."""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

import grpc
import prometheus_client
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

K = TypeVar("K")
log = logging.getLogger(__name__)

# Kubernetes' metrics have no `_created` series; prometheus_client adds one to every counter.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


# ------------------------------------------------------------------ the /metrics endpoint
def parse_bind_address(value: str) -> tuple[str, int] | None:
    """HOST:PORT ("0.0.0.0:8080", "[::]:8080", ":8080" = every address); "" disables (None)."""
    if not value:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f'"{value}" is not HOST:PORT (e.g. 0.0.0.0:8080; empty disables)')
    host = host.removeprefix("[").removesuffix("]") or "0.0.0.0"
    return host, int(port)


class MetricsServer:
    """The /metrics endpoint (Prometheus text format) on a daemon thread."""

    def __init__(self, host: str, port: int) -> None:
        self._httpd, self._thread = prometheus_client.start_http_server(port, addr=host)

    @property
    def port(self) -> int:
        return int(self._httpd.server_port)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    async def aclose(self) -> None:
        # shutdown() waits for the serving loop's next poll (up to 0.5 s): not on the event loop.
        await asyncio.to_thread(self.close)


def serve_metrics(address: str) -> MetricsServer | None:
    """Starts the endpoint on `address` (see parse_bind_address); None if it is empty.
    Raises RuntimeError if the address cannot be listened on."""
    parsed = parse_bind_address(address)
    if parsed is None:
        return None
    try:
        server = MetricsServer(*parsed)
    except OSError as e:
        raise RuntimeError(f"cannot serve metrics on {address}: {e.strerror or e}") from e
    log.info("metrics on http://%s:%d/metrics", parsed[0], server.port)
    return server


# ------------------------------------------------------------------ work queues (client-go)
# client-go: ExponentialBuckets(10e-9, 10, 10), 10 ns to 10 s.
WORKQUEUE_DURATION_BUCKETS = tuple(10e-9 * 10 ** i for i in range(10))

WORKQUEUE_DEPTH = Gauge("workqueue_depth", "Current depth of workqueue", ["name"])
WORKQUEUE_ADDS = Counter("workqueue_adds_total", "Total number of adds handled by workqueue",
                         ["name"])
WORKQUEUE_QUEUE_DURATION = Histogram(
    "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested.", ["name"],
    buckets=WORKQUEUE_DURATION_BUCKETS)
WORKQUEUE_WORK_DURATION = Histogram(
    "workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes.",
    ["name"], buckets=WORKQUEUE_DURATION_BUCKETS)
WORKQUEUE_RETRIES = Counter("workqueue_retries_total", "Total number of retries handled by workqueue",
                            ["name"])


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


class _UnfinishedWork(Collector):
    """workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds, computed
    at scrape time from the live queues."""

    def __init__(self) -> None:
        self._queues: weakref.WeakSet[QueueMetrics[Any]] = weakref.WeakSet()
        self._lock = threading.Lock()

    def track(self, queue: QueueMetrics[Any]) -> None:
        with self._lock:
            self._queues.add(queue)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            queues = list(self._queues)
        unfinished = GaugeMetricFamily(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been observed "
            "by work_duration. Large values indicate stuck threads.", labels=["name"])
        longest = GaugeMetricFamily(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running.",
            labels=["name"])
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


# ------------------------------------------------------------------ the gRPC client (client-go rest)
REST_CLIENT_REQUESTS = Counter(
    "rest_client_requests_total", "Number of HTTP requests, partitioned by status code, method, and host.",
    ["code", "method", "host"])
REST_CLIENT_REQUEST_DURATION = Histogram(
    "rest_client_request_duration_seconds", "Request latency in seconds. Broken down by verb, and host.",
    ["verb", "host"],
    buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0))

# The HTTP method the REST call of each gRPC method would use; every other gRPC call is a POST.
_HTTP_METHODS = {"Create": "POST", "Bind": "POST", "Get": "GET", "List": "GET", "Watch": "GET",
                 "Log": "GET", "Update": "PUT", "UpdateStatus": "PUT", "Delete": "DELETE"}


def http_method(grpc_method: str | bytes) -> str:
    """"/podplane.core.v1.Pods/Create" -> "POST"."""
    if isinstance(grpc_method, bytes):
        grpc_method = grpc_method.decode()
    return _HTTP_METHODS.get(grpc_method.rpartition("/")[2], "POST")


class _MeteredUnaryCall:
    """A unary call that records rest_client_* once it is awaited to its end: its duration from
    the call's start and its code (CANCELLED if the caller gives up first). Everything else is the
    call's own."""
    __slots__ = ("_call", "_method", "_start", "_recorded")

    def __init__(self, call: Any, method: _MethodMetrics) -> None:
        self._call = call
        self._method = method
        self._start = time.monotonic()
        self._recorded = False

    def __await__(self) -> Generator[Any, None, Any]:
        code = grpc.StatusCode.CANCELLED
        try:
            response = yield from self._call.__await__()
            code = grpc.StatusCode.OK
            return response
        except grpc.aio.AioRpcError as e:
            code = e.code()
            raise
        finally:
            if not self._recorded:
                self._recorded = True
                self._method.record(code, time.monotonic() - self._start)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)


class _MethodMetrics:
    """One method's series: its verb's duration histogram, and a request counter per code."""

    def __init__(self, method: str | bytes, host: str) -> None:
        self.verb, self.host = http_method(method), host
        self._duration = REST_CLIENT_REQUEST_DURATION.labels(self.verb, host)
        self._requests: dict[grpc.StatusCode, Any] = {}

    def count(self, code: grpc.StatusCode) -> None:
        counter = self._requests.get(code)
        if counter is None:
            counter = self._requests[code] = REST_CLIENT_REQUESTS.labels(
                code.name, self.verb, self.host)
        counter.inc()

    def record(self, code: grpc.StatusCode, seconds: float) -> None:
        self._duration.observe(seconds)
        self.count(code)


class _MeteredUnaryUnary:
    def __init__(self, inner: Any, method: _MethodMetrics) -> None:
        self._inner, self._method = inner, method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _MeteredUnaryCall(self._inner(*args, **kwargs), self._method)


class _MeteredUnaryStream:
    """Streams (watch, logs) are counted when they end, with their final code; a stream's length
    says nothing about latency, so they are not timed."""

    def __init__(self, inner: Any, method: _MethodMetrics) -> None:
        self._inner, self._method = inner, method
        self._counting: set[asyncio.Task[None]] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = self._inner(*args, **kwargs)
        loop = asyncio.get_running_loop()
        call.add_done_callback(lambda done: self._count(loop, done))
        return call

    def _count(self, loop: asyncio.AbstractEventLoop, call: Any) -> None:
        async def count() -> None:
            self._method.count(await call.code())
        if not loop.is_closed():
            task = loop.create_task(count())
            self._counting.add(task)
            task.add_done_callback(self._counting.discard)


class MeteredChannel(grpc.aio.Channel):  # type: ignore[misc]
    """A channel to `host` whose calls record rest_client_requests_total and
    rest_client_request_duration_seconds, as client-go's REST client does.

    Not a grpc.aio client interceptor: gRPC runs each intercepted call through a task of its own,
    which cost every unary call about 70 us of CPU (a quarter more than the call itself, on grpcio
    1.85.1); here a unary call is timed where it is awaited, and each method's series are looked up
    once."""

    def __init__(self, channel: grpc.aio.Channel, host: str) -> None:
        self._channel, self.host = channel, host

    def unary_unary(self, method: str, request_serializer: Any = None,
                    response_deserializer: Any = None, _registered_method: bool | None = False,
                    ) -> Any:
        return _MeteredUnaryUnary(self._channel.unary_unary(
            method, request_serializer, response_deserializer, _registered_method),
            _MethodMetrics(method, self.host))

    def unary_stream(self, method: str, request_serializer: Any = None,
                     response_deserializer: Any = None, _registered_method: bool | None = False,
                     ) -> Any:
        return _MeteredUnaryStream(self._channel.unary_stream(
            method, request_serializer, response_deserializer, _registered_method),
            _MethodMetrics(method, self.host))

    def stream_unary(self, *args: Any, **kwargs: Any) -> Any:
        return self._channel.stream_unary(*args, **kwargs)

    def stream_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self._channel.stream_stream(*args, **kwargs)

    async def close(self, grace: float | None = None) -> None:
        await self._channel.close(grace)

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return self._channel.get_state(try_to_connect)

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        await self._channel.wait_for_state_change(last_observed_state)

    async def channel_ready(self) -> None:
        await self._channel.channel_ready()

    async def __aenter__(self) -> MeteredChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
