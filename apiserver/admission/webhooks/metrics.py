"""The admission webhooks' metrics under kube-apiserver's names and labels
(k8s.io/apiserver/pkg/admission/metrics/metrics.go): every call's latency and count by webhook,
type (`admit` for a mutating webhook, `validating`), operation, whether it refused the request
and the HTTP code; refusals by error type; webhooks that failed open."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.metrics_core import Metric

ADMIT = "admit"
VALIDATING = "validating"

# Why a webhook refused a request (WebhookRejectionErrorType).
CALLING_WEBHOOK_ERROR = "calling_webhook_error"
APISERVER_INTERNAL_ERROR = "apiserver_internal_error"
NO_ERROR = "no_error"

DURATION = Histogram(
    "apiserver_admission_webhook_admission_duration_seconds",
    "Admission webhook latency histogram in seconds, identified by name and broken out for each "
    "operation and API resource and type (validate or admit).",
    ["name", "type", "operation", "rejected"],
    buckets=(0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 10, 25),
)
REQUESTS = Counter(
    "apiserver_admission_webhook_request_total",
    "Admission webhook request total, identified by name and broken out for each admission type "
    "(validating or mutating) and operation. Additional labels specify whether the request was "
    "rejected or not and an HTTP status code. Codes greater than 600 are truncated to 600, to "
    "keep the metrics cardinality bounded.",
    ["name", "type", "operation", "code", "rejected"],
)


class ExactlyNamedCounter:
    """A counter exposed under its name as it is (prometheus_client writes a counter's samples
    as <name>_total; Kubernetes' *_count counters have no such suffix, so scrapers and
    dashboards written for kube-apiserver find them here under the same name). Written as an
    untyped metric, which is how the text format carries a counter without the suffix."""

    def __init__(self, name: str, documentation: str, labelnames: list[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = tuple(labelnames)
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()
        REGISTRY.register(self)

    def inc(self, *labelvalues: str) -> None:
        with self._lock:
            self._values[labelvalues] = self._values.get(labelvalues, 0.0) + 1

    def value(self, *labelvalues: str) -> float:
        return self._values.get(labelvalues, 0.0)

    def collect(self) -> Iterator[Metric]:
        metric = Metric(self.name, self.documentation, "unknown")
        with self._lock:
            for labelvalues, value in self._values.items():
                metric.add_sample(
                    self.name, dict(zip(self.labelnames, labelvalues, strict=True)), value
                )
        yield metric


REJECTIONS = ExactlyNamedCounter(
    "apiserver_admission_webhook_rejection_count",
    "Admission webhook rejection count, identified by name and broken out for each admission "
    "type (validating or admit) and operation. Additional labels specify an error type "
    "(calling_webhook_error or apiserver_internal_error if an error occurred; no_error "
    "otherwise) and optionally a non-zero rejection code if the webhook rejects the request "
    "with an HTTP status code (honored by the apiserver when the code is greater or equal to "
    "400). Codes greater than 600 are truncated to 600, to keep the metrics cardinality bounded.",
    ["name", "type", "operation", "error_type", "rejection_code"],
)
FAIL_OPEN = ExactlyNamedCounter(
    "apiserver_admission_webhook_fail_open_count",
    "Admission webhook fail open count, identified by name and broken out for each admission "
    "type (validating or mutating).",
    ["name", "type"],
)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def observe_webhook(
    name: str, step: str, operation: str, elapsed: float, rejected: bool, code: int
) -> None:
    """ObserveWebhook: one call's count and latency."""
    REQUESTS.labels(name, step, operation, str(min(code, 600)), _bool(rejected)).inc()
    DURATION.labels(name, step, operation, _bool(rejected)).observe(elapsed)


def observe_rejection(name: str, step: str, operation: str, error_type: str, code: int) -> None:
    """ObserveWebhookRejection."""
    REJECTIONS.inc(name, step, operation, error_type, str(min(code, 600)))


def observe_fail_open(name: str, step: str) -> None:
    """ObserveWebhookFailOpen."""
    FAIL_OPEN.inc(name, step)
