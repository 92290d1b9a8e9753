"""API Priority and Fairness' metrics, under kube-apiserver's names and labels
(k8s.io/apiserver/pkg/util/flowcontrol/metrics). Each request's series are looked up once per
(priority level, flow schema) pair and kept (FlowMetrics): a labels() call costs a lock and a key
on every request otherwise."""

from __future__ import annotations

from functools import cache

from prometheus_client import Counter, Gauge, Histogram

# Kubernetes' requestDurationSecondsBuckets.
WAIT_BUCKETS = (0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30)
_PAIR = ["priority_level", "flow_schema"]

CURRENT_INQUEUE = Gauge(
    "apiserver_flowcontrol_current_inqueue_requests",
    "Number of requests currently pending in queues of the API Priority and Fairness subsystem",
    _PAIR,
)
CURRENT_EXECUTING = Gauge(
    "apiserver_flowcontrol_current_executing_requests",
    "Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the "
    "API Priority and Fairness subsystem",
    _PAIR,
)
REJECTED = Counter(
    "apiserver_flowcontrol_rejected_requests_total",
    "Number of requests rejected by API Priority and Fairness subsystem (reason: queue-full, "
    "concurrency-limit or time-out)",
    [*_PAIR, "reason"],
)
DISPATCHED = Counter(
    "apiserver_flowcontrol_dispatched_requests_total",
    "Number of requests executed by API Priority and Fairness subsystem",
    _PAIR,
)
WAIT_DURATION = Histogram(
    "apiserver_flowcontrol_request_wait_duration_seconds",
    "Length of time a request spent waiting in its queue (execute: whether it was then executed)",
    [*_PAIR, "execute"],
    buckets=WAIT_BUCKETS,
)
NOMINAL_LIMIT = Gauge(
    "apiserver_flowcontrol_nominal_limit_seats",
    "Nominal number of execution seats configured for each priority level",
    ["priority_level"],
)
LOWER_LIMIT = Gauge(
    "apiserver_flowcontrol_lower_limit_seats",
    "Configured lower bound on number of execution seats available to each priority level",
    ["priority_level"],
)
UPPER_LIMIT = Gauge(
    "apiserver_flowcontrol_upper_limit_seats",
    "Configured upper bound on number of execution seats available to each priority level",
    ["priority_level"],
)
CURRENT_LIMIT = Gauge(
    "apiserver_flowcontrol_current_limit_seats",
    "current derived number of execution seats available to each priority level",
    ["priority_level"],
)


class FlowMetrics:
    """The series of one (priority level, flow schema) pair."""

    def __init__(self, priority_level: str, flow_schema: str) -> None:
        self.priority_level, self.flow_schema = priority_level, flow_schema
        self.inqueue = CURRENT_INQUEUE.labels(priority_level, flow_schema)
        self.executing = CURRENT_EXECUTING.labels(priority_level, flow_schema)
        self.dispatched = DISPATCHED.labels(priority_level, flow_schema)
        self.waited_executed = WAIT_DURATION.labels(priority_level, flow_schema, "true")
        self.waited_rejected = WAIT_DURATION.labels(priority_level, flow_schema, "false")

    def rejected(self, reason: str) -> None:
        REJECTED.labels(self.priority_level, self.flow_schema, reason).inc()


@cache
def flow_metrics(priority_level: str, flow_schema: str) -> FlowMetrics:
    return FlowMetrics(priority_level, flow_schema)
