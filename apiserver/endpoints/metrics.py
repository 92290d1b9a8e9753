"""The apiserver's request metrics, under kube-apiserver's names (k8s.io/apiserver/pkg/endpoints/
metrics): requests by verb, resource and status code, their latency, the requests in flight, the
long-running ones (watches, log streams), and the registered watchers. Each front door measures
its requests in Kubernetes' request vocabulary (apiserver.endpoints.request.RequestInfo); the code
is the name of the status the request ended with. etcd's metrics are apiserver.storage.metrics',
the overload guard's apiserver.flowcontrol.max_inflight's."""

from __future__ import annotations

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
