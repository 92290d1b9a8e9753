"""HorizontalPodAutoscaler between autoscaling/v2 (the storage version, Kubernetes' internal
type's shape) and autoscaling/v1, as Kubernetes' pkg/apis/autoscaling/v1/conversion.go: v1's
targetCPUUtilizationPercentage is v2's Resource cpu metric with a Utilization target, its
currentCPUUtilizationPercentage that metric's current utilization; the other metrics, the
current metrics, the conditions and the behavior ride in annotations (round_trip.py), so a v2
object read and written back at v1 keeps them."""

from __future__ import annotations

import json

from podplane.api.autoscaling.v1 import autoscaling_pb2 as v1
from podplane.api.autoscaling.v2 import autoscaling_pb2 as v2
from podplane.apimachinery.autoscaling import round_trip
from podplane.apimachinery.json_types import JSONValue

V1 = "autoscaling/v1"
V2 = "autoscaling/v2"
KIND = "HorizontalPodAutoscaler"
CPU = "cpu"
DEFAULT_CPU_UTILIZATION = 80


def _is_cpu_utilization(m: v2.MetricSpec) -> bool:
    return (
        m.type == "Resource"
        and m.HasField("resource")
        and m.resource.name == CPU
        and m.resource.target.type == "Utilization"
    )


def cpu_utilization_metric(percent: int) -> v2.MetricSpec:
    metric = v2.MetricSpec(type="Resource")
    metric.resource.name = CPU
    metric.resource.target.type = "Utilization"
    metric.resource.target.average_utilization = percent
    return metric


# Either version's message.
HPA = v1.HorizontalPodAutoscaler | v2.HorizontalPodAutoscaler


def _copy_meta(dst: HPA, src: HPA) -> None:
    dst.metadata.CopyFrom(src.metadata)
    for key in round_trip.ROUND_TRIP:  # only the ones the conversion writes
        if key in dst.metadata.annotations:
            del dst.metadata.annotations[key]


def _copy_shared(dst: HPA, src: HPA) -> None:
    """What both versions have under the same names: the target, the bounds, the replicas."""
    if src.HasField("spec"):
        dst.spec.SetInParent()
        ref = src.spec.scale_target_ref
        dst.spec.scale_target_ref.kind, dst.spec.scale_target_ref.name = ref.kind, ref.name
        dst.spec.scale_target_ref.api_version = ref.api_version
        if src.spec.HasField("min_replicas"):
            dst.spec.min_replicas = src.spec.min_replicas
        dst.spec.max_replicas = src.spec.max_replicas
    if src.HasField("status"):
        status = src.status
        dst.status.SetInParent()
        if status.HasField("observed_generation"):
            dst.status.observed_generation = status.observed_generation
        dst.status.last_scale_time = status.last_scale_time
        dst.status.current_replicas = status.current_replicas
        dst.status.desired_replicas = status.desired_replicas


def to_v1(obj: v2.HorizontalPodAutoscaler) -> v1.HorizontalPodAutoscaler:
    out = v1.HorizontalPodAutoscaler(api_version=V1, kind=KIND)
    _copy_meta(out, obj)
    spec, status = obj.spec, obj.status
    _copy_shared(out, obj)
    for m in spec.metrics:  # the first cpu Resource metric
        if m.type == "Resource" and m.HasField("resource") and m.resource.name == CPU:
            if m.resource.target.HasField("average_utilization"):
                out.spec.target_cpu_utilization_percentage = m.resource.target.average_utilization
            break
    for s in status.current_metrics:
        if s.type == "Resource" and s.HasField("resource") and s.resource.name == CPU:
            if s.resource.current.HasField("average_utilization"):
                out.status.current_cpu_utilization_percentage = (
                    s.resource.current.average_utilization
                )
    carried = out.metadata.annotations
    others = [round_trip.metric_spec(m) for m in spec.metrics if not _is_cpu_utilization(m)]
    if others:
        carried[round_trip.METRICS] = round_trip.go_json(others)
    if status.current_metrics:
        current = [round_trip.metric_status(s) for s in status.current_metrics]
        carried[round_trip.CURRENT_METRICS] = round_trip.go_json(current)
    if spec.HasField("behavior"):
        carried[round_trip.BEHAVIOR] = round_trip.go_json(round_trip.behavior(spec.behavior))
    if status.conditions:
        conditions = [round_trip.condition(c) for c in status.conditions]
        carried[round_trip.CONDITIONS] = round_trip.go_json(conditions)
    return out


def _carried(obj: v1.HorizontalPodAutoscaler, key: str) -> JSONValue:
    """An annotation's JSON; None when absent or not JSON (Kubernetes then ignores it)."""
    text = obj.metadata.annotations.get(key)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def to_v2(obj: v1.HorizontalPodAutoscaler) -> v2.HorizontalPodAutoscaler:
    out = v2.HorizontalPodAutoscaler(api_version=V2, kind=KIND)
    _copy_meta(out, obj)
    spec, status = obj.spec, obj.status
    _copy_shared(out, obj)
    if status.HasField("current_cpu_utilization_percentage"):
        current = out.status.current_metrics.add(type="Resource")
        current.resource.name = CPU
        current.resource.current.average_utilization = status.current_cpu_utilization_percentage
    others = _carried(obj, round_trip.METRICS)
    if isinstance(others, list):  # the other metrics first, then v1's cpu target
        for data in others:
            if isinstance(data, dict):
                round_trip.into_metric_spec(out.spec.metrics.add(), data)
    if spec.HasField("target_cpu_utilization_percentage"):
        out.spec.metrics.append(cpu_utilization_metric(spec.target_cpu_utilization_percentage))
    behavior = _carried(obj, round_trip.BEHAVIOR)
    if isinstance(behavior, dict):
        parsed = v2.HorizontalPodAutoscalerBehavior()
        round_trip.into_behavior(parsed, behavior)
        if parsed.ListFields():  # an empty behavior is none
            out.spec.behavior.CopyFrom(parsed)
    current_metrics = _carried(obj, round_trip.CURRENT_METRICS)
    if isinstance(current_metrics, list):  # more than v1's current cpu utilization: it wins
        del out.status.current_metrics[:]
        for data in current_metrics:
            if isinstance(data, dict):
                round_trip.into_metric_status(out.status.current_metrics.add(), data)
    if not out.spec.metrics:  # v1's implicit default, made explicit
        out.spec.metrics.append(cpu_utilization_metric(DEFAULT_CPU_UTILIZATION))
    conditions = _carried(obj, round_trip.CONDITIONS)
    if isinstance(conditions, list):
        for data in conditions:
            if isinstance(data, dict):
                round_trip.into_condition(out.status.conditions.add(), data)
    return out
