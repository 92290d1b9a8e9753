"""The horizontal pod autoscaler table, as printHorizontalPodAutoscaler and formatHPAMetrics
(Kubernetes 1.31: `cpu: 40%/50%`, `<unknown>` before the controller has read a metric, the
first two metrics and `+ N more...`). An autoscaling/v1 object is shown as its v2 self."""

from __future__ import annotations

from datetime import datetime

from podplane.api.autoscaling.v1 import autoscaling_pb2 as v1
from podplane.api.autoscaling.v2 import autoscaling_pb2 as v2
from podplane.apimachinery import quantity
from podplane.apimachinery.autoscaling import conversion
from podplane.apimachinery.timeutil import human_age
from podplane.printers.spec import Cell, Column, TableSpec, age_column, name_column

UNKNOWN = "<unknown>"
MAX_SHOWN = 2


def _q(value: str) -> str:
    """A quantity as Go's Quantity.String() writes it ("0" when unset)."""
    try:
        return quantity.canonical_text(value or "0")
    except quantity.QuantityError:
        return value


def _resource(name: str, target: v2.MetricTarget, current: v2.MetricValueStatus | None) -> str:
    if target.average_value:
        now = _q(current.average_value) if current is not None else UNKNOWN
        return f"{name}: {now}/{_q(target.average_value)}"
    now = UNKNOWN
    if current is not None and current.HasField("average_utilization"):
        now = f"{current.average_utilization}%"
    wanted = (
        f"{target.average_utilization}%" if target.HasField("average_utilization") else "<auto>"
    )
    return f"{name}: {now}/{wanted}"


def _metric(spec: v2.MetricSpec, status: v2.MetricStatus | None) -> str:
    def has(field: str) -> bool:
        return status is not None and status.HasField(field)

    if spec.type == "External":
        t = spec.external.target
        if t.average_value:
            now = UNKNOWN
            if status is not None and has("external") and status.external.current.average_value:
                now = _q(status.external.current.average_value)
            return f"{now}/{_q(t.average_value)} (avg)"
        now = _q(status.external.current.value) if status and has("external") else UNKNOWN
        return f"{now}/{_q(t.value)}"
    if spec.type == "Pods":
        now = _q(status.pods.current.average_value) if status and has("pods") else UNKNOWN
        return f"{now}/{_q(spec.pods.target.average_value)}"
    if spec.type == "Object":
        t = spec.object.target
        if t.average_value:
            now = UNKNOWN
            if status is not None and has("object") and status.object.current.average_value:
                now = _q(status.object.current.average_value)
            return f"{now}/{_q(t.average_value)} (avg)"
        now = _q(status.object.current.value) if status and has("object") else UNKNOWN
        return f"{now}/{_q(t.value)}"
    if spec.type == "Resource":
        current = status.resource.current if status and has("resource") else None
        return _resource(spec.resource.name, spec.resource.target, current)
    if spec.type == "ContainerResource":
        c = spec.container_resource
        current = (
            status.container_resource.current if status and has("container_resource") else None
        )
        return _resource(c.name, c.target, current)
    return "<unknown type>"


def format_metrics(specs: list[v2.MetricSpec], statuses: list[v2.MetricStatus]) -> str:
    """formatHPAMetrics: each spec beside the status at the same index."""
    if not specs:
        return "<none>"
    shown = [
        _metric(spec, statuses[i] if i < len(statuses) else None) for i, spec in enumerate(specs)
    ]
    text = ", ".join(shown[:MAX_SHOWN])
    if len(shown) > MAX_SHOWN:
        return f"{text} + {len(shown) - MAX_SHOWN} more..."
    return text


def horizontal_pod_autoscaler_row(hpa: v2.HorizontalPodAutoscaler, now: datetime) -> list[Cell]:
    spec = hpa.spec
    return [
        hpa.metadata.name,
        f"{spec.scale_target_ref.kind}/{spec.scale_target_ref.name}",
        format_metrics(list(spec.metrics), list(hpa.status.current_metrics)),
        str(spec.min_replicas) if spec.HasField("min_replicas") else "<unset>",
        spec.max_replicas,
        hpa.status.current_replicas,
        human_age(hpa.metadata.creation_timestamp, now),
    ]


def horizontal_pod_autoscaler_v1_row(hpa: v1.HorizontalPodAutoscaler, now: datetime) -> list[Cell]:
    return horizontal_pod_autoscaler_row(conversion.to_v2(hpa), now)


_COLUMNS = (
    name_column(),
    Column(
        "Reference",
        "string",
        "scaleTargetRef points to the target resource to scale, and is used to the pods for which"
        " metrics should be collected, as well as to actually change the replica count.",
    ),
    Column(
        "Targets",
        "string",
        "metrics contains the specifications for which to use to calculate the desired replica"
        " count (the maximum replica count across all metrics will be used).  The desired replica"
        " count is calculated multiplying the ratio between the target value and the current"
        " value by the current number of pods.  Ergo, metrics used must decrease as the pod count"
        " is increased, and vice-versa.  See the individual metric source types for more"
        " information about how each type of metric must respond. If not set, the default metric"
        " will be set to 80% average CPU utilization.",
    ),
    Column(
        "MinPods",
        "string",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can"
        " scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature"
        " gate HPAScaleToZero is enabled and at least one Object or External metric is"
        " configured.  Scaling is active as long as at least one metric value is available.",
    ),
    Column(
        "MaxPods",
        "integer",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can"
        " scale up. It cannot be less that minReplicas.",
    ),
    Column(
        "Replicas",
        "integer",
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last"
        " seen by the autoscaler.",
    ),
    age_column(),
)
HORIZONTAL_POD_AUTOSCALER_TABLE = TableSpec(columns=_COLUMNS, row=horizontal_pod_autoscaler_row)
HORIZONTAL_POD_AUTOSCALER_V1_TABLE = TableSpec(
    columns=_COLUMNS, row=horizontal_pod_autoscaler_v1_row
)
