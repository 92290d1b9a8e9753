"""Validation of a HorizontalPodAutoscaler's metrics (kubernetes pkg/apis/autoscaling/validation
validateMetrics): one source per metric, of its type; each target's type and positive values;
metric names that are path segments."""

from __future__ import annotations

from decimal import Decimal

from apiserver.validation import fields
from apiserver.validation.embedded_meta import path_segment_name
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import Shown
from apiserver.validation.resource_names import container_resource_name
from podplane.api.autoscaling.v2 import autoscaling_pb2 as v2
from podplane.apimachinery import quantity

METRIC_SOURCE_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")
# The MetricSpec field each source type fills.
_SOURCE_FIELDS = {
    "Object": "object",
    "Pods": "pods",
    "Resource": "resource",
    "External": "external",
    "ContainerResource": "containerResource",
}
_PROTO_FIELDS = {
    "object": "object",
    "external": "external",
    "pods": "pods",
    "resource": "resource",
    "containerResource": "container_resource",
}
POPULATE = "must populate information for the given metric source"


def cross_version_object_reference(
    path: str, ref: v2.CrossVersionObjectReference
) -> list[FieldError]:
    errs: list[FieldError] = []
    for name, value in (("kind", ref.kind), ("name", ref.name)):
        if not value:
            errs.append(fields.required(f"{path}.{name}"))
        else:
            errs += path_segment_name(f"{path}.{name}", value)
    return errs


def _positive(value: str) -> bool:
    try:
        return quantity.parse(value) > Decimal(0)
    except quantity.QuantityError:
        return False


def metric_target(path: str, t: v2.MetricTarget) -> list[FieldError]:
    errs: list[FieldError] = []
    if not t.type:
        errs.append(fields.required(f"{path}.type", "must specify a metric target type"))
    if t.type not in ("Utilization", "Value", "AverageValue"):
        errs.append(
            fields.invalid(
                f"{path}.type", t.type, "must be either Utilization, Value, or AverageValue"
            )
        )
    for name, value in (("value", t.value), ("averageValue", t.average_value)):
        if value and not _positive(value):
            errs.append(fields.invalid(f"{path}.{name}", Shown(value), "must be positive"))
    if t.HasField("average_utilization") and t.average_utilization < 1:
        errs.append(
            fields.invalid(
                f"{path}.averageUtilization", t.average_utilization, "must be greater than 0"
            )
        )
    return errs


def metric_identifier(path: str, metric: v2.MetricIdentifier) -> list[FieldError]:
    if not metric.name:
        return [fields.required(f"{path}.name", "must specify a metric name")]
    return path_segment_name(f"{path}.name", metric.name)


def _object(path: str, src: v2.ObjectMetricSource) -> list[FieldError]:
    errs = cross_version_object_reference(f"{path}.describedObject", src.described_object)
    errs += metric_identifier(f"{path}.metric", src.metric)
    errs += metric_target(f"{path}.target", src.target)
    if not src.target.value and not src.target.average_value:
        errs.append(
            fields.required(
                f"{path}.target.averageValue", "must set either a target value or averageValue"
            )
        )
    return errs


def _external(path: str, src: v2.ExternalMetricSource) -> list[FieldError]:
    errs = metric_identifier(f"{path}.metric", src.metric)
    errs += metric_target(f"{path}.target", src.target)
    if not src.target.value and not src.target.average_value:
        detail = "must set either a target value for metric or a per-pod target"
        errs.append(fields.required(f"{path}.target.averageValue", detail))
    if src.target.value and src.target.average_value:
        detail = "may not set both a target value for metric and a per-pod target"
        errs.append(fields.forbidden(f"{path}.target.value", detail))
    return errs


def _pods(path: str, src: v2.PodsMetricSource) -> list[FieldError]:
    errs = metric_identifier(f"{path}.metric", src.metric)
    errs += metric_target(f"{path}.target", src.target)
    if not src.target.average_value:
        detail = "must specify a positive target averageValue"
        errs.append(fields.required(f"{path}.target.averageValue", detail))
    return errs


def _utilization_or_value(path: str, t: v2.MetricTarget) -> list[FieldError]:
    errs = metric_target(path, t)
    utilization, value = t.HasField("average_utilization"), bool(t.average_value)
    if not utilization and not value:
        detail = "must set either a target raw value or a target utilization"
        errs.append(fields.required(f"{path}.averageUtilization", detail))
    if utilization and value:
        detail = "may not set both a target raw value and a target utilization"
        errs.append(fields.forbidden(f"{path}.averageValue", detail))
    return errs


def _resource(path: str, src: v2.ResourceMetricSource) -> list[FieldError]:
    errs: list[FieldError] = []
    if not src.name:
        errs.append(fields.required(f"{path}.name", "must specify a resource name"))
    return errs + _utilization_or_value(f"{path}.target", src.target)


def _container_resource(path: str, src: v2.ContainerResourceMetricSource) -> list[FieldError]:
    errs: list[FieldError] = []
    if not src.name:
        errs.append(fields.required(f"{path}.name", "must specify a resource name"))
    else:
        errs += container_resource_name(f"{path}.name", src.name)
    if not src.container:
        errs.append(fields.required(f"{path}.container", "must specify a container"))
    else:
        errs += fields.dns1123_label(f"{path}.container", src.container)
    return errs + _utilization_or_value(f"{path}.target", src.target)


def metric_spec(path: str, m: v2.MetricSpec) -> list[FieldError]:
    errs: list[FieldError] = []
    if not m.type:
        errs.append(fields.required(f"{path}.type", "must specify a metric source type"))
    if m.type not in METRIC_SOURCE_TYPES:
        errs.append(fields.unsupported(f"{path}.type", m.type, METRIC_SOURCE_TYPES))
    present: list[str] = []
    checks = (
        ("object", _object),
        ("external", _external),
        ("pods", _pods),
        ("resource", _resource),
        ("containerResource", _container_resource),
    )
    for name, check in checks:
        if m.HasField(_PROTO_FIELDS[name]):
            present.append(name)
            if len(present) == 1:
                errs += check(f"{path}.{name}", getattr(m, _PROTO_FIELDS[name]))
    expected = _SOURCE_FIELDS.get(m.type, "")
    if expected and expected not in present:
        errs.append(fields.required(f"{path}.{expected}", POPULATE))
    elif not expected:
        errs.append(fields.unsupported(f"{path}.type", m.type, METRIC_SOURCE_TYPES))
    if len(present) != 1:
        for name in sorted(set(present) - {expected}):
            errs.append(
                fields.forbidden(f"{path}.{name}", "must populate the given metric source only")
            )
    return errs


def metrics(path: str, specs: list[v2.MetricSpec], min_replicas: int | None) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, m in enumerate(specs):
        errs += metric_spec(f"{path}[{i}]", m)
    if min_replicas == 0 and not any(m.type in ("Object", "External") for m in specs):
        detail = (
            "must specify at least one Object or External metric to support scaling to zero"
            " replicas"
        )
        errs.append(fields.forbidden(path, detail))
    return errs
