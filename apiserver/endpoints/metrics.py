"""The apiserver's request metrics, under kube-apiserver's names (k8s.io/apiserver/pkg/endpoints/
metrics): requests by verb, resource and status code, their latency, the requests in flight, the
long-running ones (watches, log streams), and the registered watchers. Each front door measures
its requests in Kubernetes' request vocabulary (apiserver.endpoints.request.RequestInfo); the code
is the name of the status the request ended with. etcd's metrics are apiserver.storage.metrics',
the overload guard's apiserver.flowcontrol.max_inflight's."""

from __future__ import annotations

import functools
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from apiserver.endpoints.request import RequestInfo
from apiserver.flowcontrol.max_inflight import MUTATING, READ_ONLY
from apiserver.storage.metrics import DURATION_BUCKETS

REQUESTS = Counter(
    "apiserver_request_total",
    "Counter of apiserver requests broken out for each verb, resource, subresource and gRPC "
    "status code.",
    ["verb", "resource", "subresource", "code"],
)
REQUEST_DURATION = Histogram(
    "apiserver_request_duration_seconds",
    "Response latency distribution in seconds for each verb, resource and subresource "
    "(long-running requests excluded).",
    ["verb", "resource", "subresource"],
    buckets=DURATION_BUCKETS,
)
INFLIGHT_REQUESTS = Gauge(
    "apiserver_current_inflight_requests",
    "Number of requests currently being served, per request kind (long-running ones excluded).",
    ["request_kind"],
)
LONGRUNNING_REQUESTS = Gauge(
    "apiserver_longrunning_requests",
    "Gauge of all active long-running apiserver requests broken out by verb, resource and "
    "subresource.",
    ["verb", "resource", "subresource"],
)
# Set by the watch cache: inc() when a watcher registers with it, dec() when it goes.
REGISTERED_WATCHERS = Gauge(
    "apiserver_registered_watchers",
    "Number of currently registered watchers for a given resource.",
    ["resource"],
)

for _kind in (READ_ONLY, MUTATING):
    INFLIGHT_REQUESTS.labels(_kind)  # both series exist from the start, at 0


# The series of a request's labels, each looked up once: the REST door's requests are not
# grouped by method as gRPC's calls are, and a labels() call takes a lock and builds a key on
# every call (three per request).
@functools.lru_cache(maxsize=4096)
def request_series(verb: str, resource: str, subresource: str, code: str) -> Counter:
    return REQUESTS.labels(verb, resource, subresource, code)


@functools.lru_cache(maxsize=4096)
def duration_series(verb: str, resource: str, subresource: str) -> Histogram:
    return REQUEST_DURATION.labels(verb, resource, subresource)


@functools.lru_cache(maxsize=4096)
def longrunning_series(verb: str, resource: str, subresource: str) -> Gauge:
    return LONGRUNNING_REQUESTS.labels(verb, resource, subresource)


@functools.lru_cache(maxsize=8)
def inflight_series(request_kind: str) -> Gauge:
    return INFLIGHT_REQUESTS.labels(request_kind)


def requests_by_code(info: RequestInfo) -> Callable[[str], Counter]:
    """apiserver_request_total's series for this kind of request and a code, each looked up once
    (a labels() call takes a lock and builds a key: a few microseconds, on every call)."""
    series: dict[str, Counter] = {}

    def of(code: str) -> Counter:
        counter = series.get(code)
        if counter is None:
            counter = series[code] = REQUESTS.labels(
                info.verb, info.resource, info.subresource, code
            )
        return counter

    return of
