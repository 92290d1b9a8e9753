"""The apiserver's metrics, under kube-apiserver's names (k8s.io/apiserver/pkg/endpoints/metrics and
storage/etcd3/metrics): requests by verb, resource and status code, their latency, the requests in
flight, the long-running ones (watches, log streams), the registered watchers, and etcd's latency.

Requests are measured by a server interceptor, so the servicers know nothing of metrics. A gRPC
method maps to Kubernetes' request vocabulary: Pods/Create is verb "create" on "pods", Pods/Bind is
"create" on pods/binding, Pods/UpdateStatus is "update" on pods/status; the code is the gRPC status
code's name (OK, NOT_FOUND, ABORTED, ...)."""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
from prometheus_client import Counter, Gauge, Histogram

from apiserver.endpoints.grpc.interceptors.handler_wrapping import Behavior, WrappingInterceptor, wrap_behaviors
from apiserver.endpoints.grpc.request_info import MUTATING, READ_ONLY, RequestInfo, request_info

# kube-apiserver's buckets for apiserver_request_duration_seconds and etcd_request_duration_seconds.
DURATION_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0,
                    5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)

REQUESTS = Counter(
    "apiserver_request_total",
    "Counter of apiserver requests broken out for each verb, resource, subresource and gRPC "
    "status code.", ["verb", "resource", "subresource", "code"])
REQUEST_DURATION = Histogram(
    "apiserver_request_duration_seconds",
    "Response latency distribution in seconds for each verb, resource and subresource "
    "(long-running requests excluded).", ["verb", "resource", "subresource"],
    buckets=DURATION_BUCKETS)
INFLIGHT_REQUESTS = Gauge(
    "apiserver_current_inflight_requests",
    "Number of requests currently being served, per request kind (long-running ones excluded).",
    ["request_kind"])
LONGRUNNING_REQUESTS = Gauge(
    "apiserver_longrunning_requests",
    "Gauge of all active long-running apiserver requests broken out by verb, resource and "
    "subresource.", ["verb", "resource", "subresource"])
# Set by the max-in-flight guard (apiserver/endpoints/grpc/interceptors/max_inflight.py) for each request it rejects.
DROPPED_REQUESTS = Counter(
    "apiserver_dropped_requests_total",
    "Number of requests dropped with 'Try again later' response.", ["request_kind"])
REQUEST_TERMINATIONS = Counter(
    "apiserver_request_terminations_total",
    "Number of requests which apiserver terminated in self-defense, by verb, resource, "
    "subresource, component and gRPC status code.",
    ["verb", "resource", "subresource", "component", "code"])
# Set by the watch cache: inc() when a watcher registers with it, dec() when it goes.
REGISTERED_WATCHERS = Gauge(
    "apiserver_registered_watchers",
    "Number of currently registered watchers for a given resource.", ["resource"])
ETCD_REQUEST_DURATION = Histogram(
    "etcd_request_duration_seconds",
    "Etcd request latency in seconds for each operation and object type.", ["operation", "type"],
    buckets=DURATION_BUCKETS)
ETCD_DB_SIZE = Gauge(
    "etcd_db_total_size_in_bytes",
    "Total size of the etcd database file physically allocated in bytes.", ["endpoint"])

for _kind in (READ_ONLY, MUTATING):
    INFLIGHT_REQUESTS.labels(_kind)  # both series exist from the start, at 0
    DROPPED_REQUESTS.labels(_kind)

def _code(context: grpc.aio.ServicerContext, error: BaseException | None) -> str:
    """The status code the call ends with: what the servicer set or aborted with; CANCELLED when
    the client went away; UNKNOWN for an unhandled exception (what gRPC sends then)."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    if error is None:
        return str(grpc.StatusCode.OK.name)
    if isinstance(error, (asyncio.CancelledError, GeneratorExit)):
        return str(grpc.StatusCode.CANCELLED.name)
    return str(grpc.StatusCode.UNKNOWN.name)


def _requests_by_code(info: RequestInfo) -> Callable[[str], Any]:
    """apiserver_request_total's series for this method and a code, each looked up once (a
    labels() call takes a lock and builds a key: a few microseconds, on every call)."""
    series: dict[str, Any] = {}

    def of(code: str) -> Any:
        counter = series.get(code)
        if counter is None:
            counter = series[code] = REQUESTS.labels(info.verb, info.resource, info.subresource,
                                                     code)
        return counter
    return of


def _unary(behavior: Behavior, info: RequestInfo) -> Callable[..., Awaitable[Any]]:
    inflight = INFLIGHT_REQUESTS.labels(info.request_kind)
    duration = REQUEST_DURATION.labels(info.verb, info.resource, info.subresource)
    requests = _requests_by_code(info)

    async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
        inflight.inc()
        start = time.monotonic()
        error: BaseException | None = None
        try:
            return await behavior(request, context)
        except BaseException as e:
            error = e
            raise
        finally:
            inflight.dec()
            duration.observe(time.monotonic() - start)
            requests(_code(context, error)).inc()
    return handle


def _stream(behavior: Behavior, info: RequestInfo) -> Callable[..., AsyncIterator[Any]]:
    """A server stream (watch, logs): long-running, so counted by apiserver_longrunning_requests
    while it lasts and not timed; apiserver_request_total counts it when it ends."""
    longrunning = LONGRUNNING_REQUESTS.labels(info.verb, info.resource, info.subresource)
    requests = _requests_by_code(info)

    async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        longrunning.inc()
        error: BaseException | None = None
        try:
            async with contextlib.aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield response
        except BaseException as e:
            error = e
            raise
        finally:
            longrunning.dec()
            requests(_code(context, error)).inc()
    return stream


class MetricsInterceptor(WrappingInterceptor):
    """Records apiserver_request_total, apiserver_request_duration_seconds,
    apiserver_current_inflight_requests and apiserver_longrunning_requests for every resource
    request; other services (health, reflection) pass through unmeasured, as do server streams
    written with context.write() rather than yielded (the servicers have none)."""

    def wrap_handler(self, method: str, handler: Any) -> Any:
        info = request_info(method)
        if info is None:
            return handler
        return wrap_behaviors(handler, lambda b: _unary(b, info), lambda b: _stream(b, info))


# ------------------------------------------------------------------ etcd
def storage_type(key: bytes) -> str:
    """The object type of an etcd key: b"/registry/pods/default/x" -> "pods"."""
    parts = key.split(b"/", 3)
    if len(parts) >= 3 and parts[0] == b"" and parts[1] == b"registry" and parts[2]:
        return parts[2].decode("utf-8", "replace")
    return "unknown"


# etcd_request_duration_seconds' series by (operation, key prefix), each looked up once.
_ETCD_DURATIONS: dict[tuple[str, bytes], Any] = {}


def _etcd_duration(operation: str, key: bytes) -> Any:
    # Keyed by /registry/<type>/ (or the whole key when it ends before that slash): a handful per
    # operation. Other keys are all of type "unknown".
    if key.startswith(b"/registry/"):
        end = key.find(b"/", len(b"/registry/"))
        prefix = key if end < 0 else key[:end + 1]
    else:
        prefix = b""
    series = _ETCD_DURATIONS.get((operation, prefix))
    if series is None:
        series = _ETCD_DURATIONS[operation, prefix] = ETCD_REQUEST_DURATION.labels(
            operation, storage_type(key))
    return series


@contextlib.contextmanager
def etcd_request(operation: str, key: bytes) -> Iterator[None]:
    """Times the block into etcd_request_duration_seconds{operation, type}, failed or not."""
    start = time.monotonic()
    try:
        yield
    finally:
        _etcd_duration(operation, key).observe(time.monotonic() - start)
