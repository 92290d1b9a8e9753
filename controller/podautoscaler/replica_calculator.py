"""The replica count a Resource or ContainerResource metric asks for (kubernetes
pkg/controller/podautoscaler/replica_calculator.go GetResourceReplicas, GetRawResourceReplicas
and calcPlainMetricReplicas): usage from the metrics source, the pods from the informer's
cache, and within `tolerance` of the target no change. Pods without a sample count, when that
could reverse the decision, as using their request (or the target) on a scale-down and nothing
on a scale-up; so do unready pods on a scale-up."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from controller.podautoscaler.pods import (
    CalculationError,
    PodGroups,
    PodInfo,
    PodMetric,
    PodMetrics,
    group_pods,
    pod_requests,
)
from controller.podautoscaler.selector import Selector
from controller.podautoscaler.utilization import metric_usage_ratio, resource_utilization_ratio

# kube-controller-manager's defaults (pkg/controller/podautoscaler/config).
DEFAULT_TOLERANCE = 0.1
DEFAULT_CPU_INITIALIZATION_PERIOD = 300.0
DEFAULT_INITIAL_READINESS_DELAY = 30.0


ReplicaCalculationError = CalculationError


class MetricsSource(Protocol):
    async def resource_metric(
        self, resource: str, namespace: str, selector: Selector, container: str
    ) -> tuple[PodMetrics, float]:
        """The pods' usage of `resource` (of their container `container`, if given) and the
        samples' timestamp; raises when there is none."""
        ...


# The pods of a namespace that a selector selects, from the informer's cache.
PodLister = Callable[[str, Selector], Sequence[PodInfo]]


@dataclass(frozen=True)
class Tuning:
    """The controller's flags that shape the calculation."""

    tolerance: float = DEFAULT_TOLERANCE
    cpu_initialization_period: float = DEFAULT_CPU_INITIALIZATION_PERIOD
    delay_of_initial_readiness_status: float = DEFAULT_INITIAL_READINESS_DELAY


@dataclass(frozen=True)
class UtilizationProposal:
    replicas: int
    utilization: int  # percentage of the requests
    raw_utilization: int  # average milli-value per pod
    timestamp: float


@dataclass(frozen=True)
class UsageProposal:
    replicas: int
    usage: int  # average milli-value per pod
    timestamp: float = 0.0


def _changes_direction(ratio: float, new_ratio: float) -> bool:
    return (ratio < 1.0 and new_ratio > 1.0) or (ratio > 1.0 and new_ratio < 1.0)


def _counted(
    pods: Sequence[PodInfo],
    samples: Mapping[str, PodMetric],
    resource: str,
    now: float,
    tuning: Tuning,
) -> tuple[PodGroups, dict[str, PodMetric]]:
    """The pods grouped, and the samples of those that count (neither ignored nor unready);
    Kubernetes' errors when there are no pods or no such samples."""
    if not pods:
        raise ReplicaCalculationError(
            "no pods returned by selector while calculating replica count"
        )
    groups = group_pods(
        pods,
        samples,
        resource,
        now,
        tuning.cpu_initialization_period,
        tuning.delay_of_initial_readiness_status,
    )
    metrics = {n: m for n, m in samples.items() if n not in groups.ignored | groups.unready}
    if not metrics:
        raise ReplicaCalculationError(
            "did not receive metrics for targeted pods (pods might be unready)"
        )
    return groups, metrics


def utilization_replicas(
    current_replicas: int,
    target_utilization: int,
    resource: str,
    container: str,
    pods: Sequence[PodInfo],
    samples: Mapping[str, PodMetric],
    now: float,
    tuning: Tuning = Tuning(),
) -> tuple[int, int, int]:
    """The replicas, utilization and raw average of GetResourceReplicas, once the metrics are
    read."""
    groups, metrics = _counted(pods, samples, resource, now, tuning)
    requests = pod_requests(pods, container, resource)
    first = resource_utilization_ratio(metrics, requests, target_utilization)
    ratio, utilization, raw = first.ratio, first.percentage, first.raw_average

    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if abs(1.0 - ratio) <= tuning.tolerance:
            return current_replicas, utilization, raw
        return math.ceil(ratio * groups.ready_count), utilization, raw

    if groups.missing:
        if ratio < 1.0:
            # On a scale-down, a pod without a sample uses all of its request, or the target
            # when that is over 100 %.
            fallback = max(100, target_utilization)
            for name in groups.missing:
                metrics[name] = PodMetric(requests[name] * fallback // 100)
        elif ratio > 1.0:
            for name in groups.missing:
                metrics[name] = PodMetric(0)
    if scale_up_with_unready:
        for name in groups.unready:
            metrics[name] = PodMetric(0)

    new_ratio = resource_utilization_ratio(metrics, requests, target_utilization).ratio
    if abs(1.0 - new_ratio) <= tuning.tolerance or _changes_direction(ratio, new_ratio):
        return current_replicas, utilization, raw
    new_replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and new_replicas > current_replicas) or (
        new_ratio > 1.0 and new_replicas < current_replicas
    ):
        return current_replicas, utilization, raw
    return new_replicas, utilization, raw


def plain_metric_replicas(
    current_replicas: int,
    target_usage: int,
    resource: str,
    pods: Sequence[PodInfo],
    samples: Mapping[str, PodMetric],
    now: float,
    tuning: Tuning = Tuning(),
) -> tuple[int, int]:
    """calcPlainMetricReplicas: the replicas and average usage for an average-value target."""
    groups, metrics = _counted(pods, samples, resource, now, tuning)
    ratio, usage = metric_usage_ratio(metrics, target_usage)

    scale_up_with_unready = bool(groups.unready) and ratio > 1.0
    if not scale_up_with_unready and not groups.missing:
        if abs(1.0 - ratio) <= tuning.tolerance:
            return current_replicas, usage
        return math.ceil(ratio * groups.ready_count), usage

    if groups.missing:
        if ratio < 1.0:
            for name in groups.missing:  # on a scale-down, exactly the target
                metrics[name] = PodMetric(target_usage)
        elif ratio > 1.0:
            for name in groups.missing:
                metrics[name] = PodMetric(0)
    if scale_up_with_unready:
        for name in groups.unready:
            metrics[name] = PodMetric(0)

    new_ratio, _ = metric_usage_ratio(metrics, target_usage)
    if abs(1.0 - new_ratio) <= tuning.tolerance or _changes_direction(ratio, new_ratio):
        return current_replicas, usage
    new_replicas = math.ceil(new_ratio * len(metrics))
    if (new_ratio < 1.0 and new_replicas > current_replicas) or (
        new_ratio > 1.0 and new_replicas < current_replicas
    ):
        return current_replicas, usage
    return new_replicas, usage


class ReplicaCalculator:
    """ReplicaCalculator: reads the metrics, lists the pods and calculates."""

    def __init__(
        self,
        metrics: MetricsSource,
        pods: PodLister,
        tuning: Tuning = Tuning(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.metrics = metrics
        self.pods = pods
        self.tuning = tuning
        self.clock = clock

    async def _samples(
        self, resource: str, namespace: str, selector: Selector, container: str
    ) -> tuple[PodMetrics, float]:
        try:
            return await self.metrics.resource_metric(resource, namespace, selector, container)
        except Exception as e:  # the source's failure, in the words Kubernetes uses
            raise ReplicaCalculationError(
                f"unable to get metrics for resource {resource}: {e}"
            ) from e

    async def resource_replicas(
        self,
        current_replicas: int,
        target_utilization: int,
        resource: str,
        namespace: str,
        selector: Selector,
        container: str = "",
    ) -> UtilizationProposal:
        """GetResourceReplicas: for a target utilization (percentage of the requests)."""
        samples, timestamp = await self._samples(resource, namespace, selector, container)
        replicas, utilization, raw = utilization_replicas(
            current_replicas,
            target_utilization,
            resource,
            container,
            self.pods(namespace, selector),
            samples,
            self.clock(),
            self.tuning,
        )
        return UtilizationProposal(replicas, utilization, raw, timestamp)

    async def raw_resource_replicas(
        self,
        current_replicas: int,
        target_usage: int,
        resource: str,
        namespace: str,
        selector: Selector,
        container: str = "",
    ) -> UsageProposal:
        """GetRawResourceReplicas: for a target average value (milli-value per pod)."""
        samples, timestamp = await self._samples(resource, namespace, selector, container)
        replicas, usage = plain_metric_replicas(
            current_replicas,
            target_usage,
            resource,
            self.pods(namespace, selector),
            samples,
            self.clock(),
            self.tuning,
        )
        return UsageProposal(replicas, usage, timestamp)
