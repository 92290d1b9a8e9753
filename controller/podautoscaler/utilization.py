"""Usage against a target (kubernetes pkg/controller/podautoscaler/metrics/utilization.go):
utilization as a percentage of the pods' requests, or the average value per pod."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from controller.podautoscaler.pods import CalculationError, PodMetric


class NoMatchingMetricsError(CalculationError):
    pass


@dataclass(frozen=True)
class Utilization:
    ratio: float  # of the usage to the target
    percentage: int  # of the requests
    raw_average: int  # milli-value per pod


def resource_utilization_ratio(
    metrics: Mapping[str, PodMetric], requests: Mapping[str, int], target_utilization: int
) -> Utilization:
    """GetResourceUtilizationRatio: metrics of pods without a request are extraneous."""
    metrics_total = requests_total = entries = 0
    for name, metric in metrics.items():
        if name not in requests:
            continue
        metrics_total += metric.value
        requests_total += requests[name]
        entries += 1
    # The requests are disjoint from the metrics (or all zero): no utilization to speak of.
    if requests_total == 0:
        raise NoMatchingMetricsError("no metrics returned matched known pods")
    percentage = _go_div(metrics_total * 100, requests_total)
    return Utilization(percentage / target_utilization, percentage, _go_div(metrics_total, entries))


def metric_usage_ratio(metrics: Mapping[str, PodMetric], target_usage: int) -> tuple[float, int]:
    """GetMetricUsageRatio: the ratio of the average value to the target, and the average."""
    total = sum(m.value for m in metrics.values())
    usage = _go_div(total, len(metrics))
    return usage / target_usage, usage


def _go_div(a: int, b: int) -> int:
    """Go's integer division, which truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q
