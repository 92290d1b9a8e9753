"""The replica count an autoscaler's metrics ask for (horizontal.go computeReplicasForMetrics
and computeReplicasForMetric): the highest of its metrics' proposals, each metric's current
value for the status, and the ScalingActive condition. A metric that fails says why in a
Warning event and a condition; the autoscaler still scales on the others, unless all failed or
the rest would scale it down.

Resource and ContainerResource metrics are read from the resource metrics API; Pods, Object
and External metrics need the custom and external metrics APIs, which the cluster does not
serve, and fail as they do in a Kubernetes cluster without them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from controller.podautoscaler.convert import milli_quantity, milli_value
from controller.podautoscaler.normalize import SCALING_ACTIVE, Condition
from controller.podautoscaler.pods import CalculationError
from controller.podautoscaler.replica_calculator import ReplicaCalculator
from controller.podautoscaler.selector import Selector
from controller.podautoscaler.status import HPA, set_condition
from podplane.api.autoscaling.v2 import autoscaling_pb2
from podplane.apimachinery.quantity import QuantityError

# record(type, reason, message): an event about the autoscaler.
Record = Callable[[str, str, str], None]
WARNING = "Warning"
CUSTOM_METRICS_MISSING = "no custom metrics API (custom.metrics.k8s.io) registered"
EXTERNAL_METRICS_MISSING = "no external metrics API (external.metrics.k8s.io) registered"


class MetricError(Exception):
    """A metric that could not be computed, with the condition it sets if all fail."""

    def __init__(self, message: str, condition: Condition) -> None:
        super().__init__(message)
        self.condition = condition


@dataclass
class Computed:
    replicas: int  # -1: nothing to scale on
    metric: str = ""
    statuses: list[autoscaling_pb2.MetricStatus] = field(default_factory=list)
    timestamp: float = 0.0
    error: str | None = None


def _unable(record: Record, reason: str, error: str) -> Condition:
    """getUnableComputeReplicaCountCondition: a Warning event and the condition."""
    record(WARNING, reason, error)
    return Condition(
        SCALING_ACTIVE, "False", reason, f"the HPA was unable to compute the replica count: {error}"
    )


@dataclass(frozen=True)
class _Proposal:
    replicas: int
    metric: str
    timestamp: float
    current: autoscaling_pb2.MetricValueStatus


async def _resource_generic(
    calc: ReplicaCalculator,
    current_replicas: int,
    target: autoscaling_pb2.MetricTarget,
    resource: str,
    namespace: str,
    container: str,
    selector: Selector,
    container_source: bool,
) -> _Proposal:
    """computeStatusForResourceMetricGeneric: an average value or an average utilization."""
    if target.average_value:
        try:
            usage = await calc.raw_resource_replicas(
                current_replicas,
                milli_value(target.average_value),
                resource,
                namespace,
                selector,
                container,
            )
        except (CalculationError, QuantityError) as e:
            raise CalculationError(f"failed to get {resource} usage: {e}") from e
        return _Proposal(
            usage.replicas,
            f"{resource} resource",
            usage.timestamp,
            autoscaling_pb2.MetricValueStatus(average_value=milli_quantity(usage.usage)),
        )
    if not target.HasField("average_utilization"):
        raise CalculationError(
            "invalid resource metric source: neither an average utilization target nor an "
            "average value (usage) target was set"
        )
    try:
        p = await calc.resource_replicas(
            current_replicas, target.average_utilization, resource, namespace, selector, container
        )
    except CalculationError as e:
        raise CalculationError(f"failed to get {resource} utilization: {e}") from e
    kind = "container resource" if container_source else "resource"
    return _Proposal(
        p.replicas,
        f"{resource} {kind} utilization (percentage of request)",
        p.timestamp,
        autoscaling_pb2.MetricValueStatus(
            average_utilization=p.utilization, average_value=milli_quantity(p.raw_utilization)
        ),
    )


async def _metric(
    calc: ReplicaCalculator,
    hpa: HPA,
    spec: autoscaling_pb2.MetricSpec,
    spec_replicas: int,
    selector: Selector,
    record: Record,
) -> tuple[_Proposal, autoscaling_pb2.MetricStatus]:
    """computeReplicasForMetric."""
    namespace = hpa.metadata.namespace
    if spec.type == "Resource":
        src = spec.resource
        try:
            p = await _resource_generic(
                calc, spec_replicas, src.target, src.name, namespace, "", selector, False
            )
        except CalculationError as e:
            condition = _unable(record, "FailedGetResourceMetric", str(e))
            raise MetricError(
                f"failed to get {src.name} resource metric value: {e}", condition
            ) from e
        status = autoscaling_pb2.MetricStatus(
            type="Resource",
            resource=autoscaling_pb2.ResourceMetricStatus(name=src.name, current=p.current),
        )
        return p, status
    if spec.type == "ContainerResource":
        c = spec.container_resource
        try:
            p = await _resource_generic(
                calc, spec_replicas, c.target, c.name, namespace, c.container, selector, True
            )
        except CalculationError as e:
            condition = _unable(record, "FailedGetContainerResourceMetric", str(e))
            raise MetricError(
                f"failed to get {c.container} container metric value: {e}", condition
            ) from e
        status = autoscaling_pb2.MetricStatus(
            type="ContainerResource",
            container_resource=autoscaling_pb2.ContainerResourceMetricStatus(
                name=c.name, container=c.container, current=p.current
            ),
        )
        return p, status
    if spec.type == "Pods":
        name = spec.pods.metric.name
        error = (
            f"unable to get metric {name}: unable to fetch metrics from custom metrics API: "
            f"{CUSTOM_METRICS_MISSING}"
        )
        condition = _unable(record, "FailedGetPodsMetric", error)
        raise MetricError(f"failed to get pods metric value: {error}", condition)
    if spec.type == "Object":
        o = spec.object
        error = (
            f"unable to get metric {o.metric.name}: {o.described_object.kind} on "
            f"{namespace} {o.described_object.name}/unable to fetch metrics from custom metrics "
            f"API: {CUSTOM_METRICS_MISSING}"
        )
        condition = _unable(record, "FailedGetObjectMetric", error)
        raise MetricError(f"failed to get object metric value: {error}", condition)
    if spec.type == "External":
        name = spec.external.metric.name
        error = f"unable to fetch metrics from external metrics API: {EXTERNAL_METRICS_MISSING}"
        condition = _unable(record, "FailedGetExternalMetric", error)
        raise MetricError(f"failed to get {name} external metric value: {error}", condition)
    error = f'unknown metric source type "{spec.type}"'
    raise MetricError(error, _unable(record, "InvalidMetricSourceType", error))


async def compute_replicas_for_metrics(
    calc: ReplicaCalculator,
    hpa: HPA,
    spec_replicas: int,
    selector: Selector,
    record: Record,
) -> Computed:
    """The highest proposal of the metrics that could be computed; the statuses of all (empty
    for those that could not). Sets ScalingActive on `hpa`."""
    specs = list(hpa.spec.metrics)
    out = Computed(replicas=0, statuses=[autoscaling_pb2.MetricStatus() for _ in specs])
    invalid, first_error, first_condition = 0, "", None
    for i, spec in enumerate(specs):
        try:
            proposal, status = await _metric(calc, hpa, spec, spec_replicas, selector, record)
        except MetricError as e:
            if invalid == 0:
                first_error, first_condition = str(e), e.condition
            invalid += 1
            continue
        out.statuses[i] = status
        if out.replicas == 0 or proposal.replicas > out.replicas:
            out.replicas, out.metric = proposal.replicas, proposal.metric
            out.timestamp = proposal.timestamp
    if invalid:
        out.error = (
            f"invalid metrics ({invalid} invalid out of {len(specs)}), first error is: "
            f"{first_error}"
        )
    if invalid >= len(specs) or (invalid > 0 and out.replicas < spec_replicas):
        if first_condition is not None:
            set_condition(hpa, first_condition)
        out.replicas, out.metric, out.timestamp = -1, "", 0.0
        return out
    set_condition(
        hpa,
        Condition(
            SCALING_ACTIVE,
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {out.metric}",
        ),
    )
    return out
