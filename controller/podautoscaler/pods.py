"""What the replica calculator reads of a pod (kubernetes pkg/controller/podautoscaler
replica_calculator.go groupPods and calculatePodRequests): its phase, deletion, Ready condition
and start time, and its containers' requests; and how the selected pods split into ready ones,
unready ones (pending, or CPU samples taken too early in the pod's life), ones without metrics,
and ignored ones (deleted or failed).

Times are seconds since the epoch; requests and usage are milli-values (Quantity.MilliValue)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReadyCondition:
    status: str  # "True", "False" or "Unknown"
    last_transition: float


@dataclass(frozen=True)
class ContainerRequests:
    name: str
    requests: Mapping[str, int] = field(default_factory=dict)  # resource -> milli-value


@dataclass(frozen=True)
class PodInfo:
    name: str
    phase: str = "Running"
    deleted: bool = False
    ready: ReadyCondition | None = None
    start_time: float | None = None
    # The regular containers and the restartable (sidecar) init containers: those that run
    # beside the app and whose requests count (calculatePodRequests).
    containers: tuple[ContainerRequests, ...] = ()

    @property
    def running_and_ready(self) -> bool:
        return self.phase == "Running" and self.ready is not None and self.ready.status == "True"


@dataclass(frozen=True)
class PodMetric:
    """One pod's usage sample: when it was taken, over what window, and its value."""

    value: int
    timestamp: float = 0.0
    window: float = 60.0


PodMetrics = dict[str, PodMetric]  # by pod name


@dataclass
class PodGroups:
    ready_count: int = 0
    unready: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    ignored: set[str] = field(default_factory=set)


def _cpu_sample_unready(
    pod: PodInfo,
    metric: PodMetric,
    now: float,
    cpu_initialization_period: float,
    delay_of_initial_readiness_status: float,
) -> bool:
    """A CPU sample is left out while the pod starts: an unready pod, or one whose sample was
    not taken over a whole window since it became ready, within the initialization period; after
    it, a pod that is unready and has never been ready."""
    condition, start = pod.ready, pod.start_time
    if condition is None or start is None:
        return True
    if start + cpu_initialization_period > now:
        return (
            condition.status == "False"
            or metric.timestamp < condition.last_transition + metric.window
        )
    return (
        condition.status == "False"
        and start + delay_of_initial_readiness_status > condition.last_transition
    )


def group_pods(
    pods: Sequence[PodInfo],
    metrics: Mapping[str, PodMetric],
    resource: str,
    now: float,
    cpu_initialization_period: float,
    delay_of_initial_readiness_status: float,
) -> PodGroups:
    """groupPods: `resource` is "" for a metric that is no resource (readiness counts for CPU
    only)."""
    groups = PodGroups()
    for pod in pods:
        if pod.deleted or pod.phase == "Failed":
            groups.ignored.add(pod.name)
            continue
        if pod.phase == "Pending":
            groups.unready.add(pod.name)
            continue
        metric = metrics.get(pod.name)
        if metric is None:
            groups.missing.add(pod.name)
            continue
        if resource == "cpu" and _cpu_sample_unready(
            pod, metric, now, cpu_initialization_period, delay_of_initial_readiness_status
        ):
            groups.unready.add(pod.name)
            continue
        groups.ready_count += 1
    return groups


class CalculationError(Exception):
    """A replica count that cannot be calculated; its message is Kubernetes'."""


class MissingRequestError(CalculationError):
    pass


def pod_requests(pods: Sequence[PodInfo], container: str, resource: str) -> dict[str, int]:
    """calculatePodRequests: each pod's request of `resource`, summed over its containers (or
    the one named `container`); a container without one is an error."""
    requests: dict[str, int] = {}
    for pod in pods:
        total = 0
        for c in pod.containers:
            if container and c.name != container:
                continue
            if resource not in c.requests:
                raise MissingRequestError(
                    f"missing request for {resource} in container {c.name} of Pod {pod.name}"
                )
            total += c.requests[resource]
        requests[pod.name] = total
    return requests
