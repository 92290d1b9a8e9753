"""What autoscaling/v1 cannot hold, as the JSON Kubernetes keeps in an autoscaling/v1 object's
annotations (pkg/apis/autoscaling/v1/conversion.go): the other metrics and the current metrics as
autoscaling/v1's MetricSpec and MetricStatus (the v2beta1 shapes: targetAverageUtilization,
metricName, ...), the conditions as autoscaling/v1's HorizontalPodAutoscalerCondition, and the
behavior as the internal Go type's JSON (no json tags: ScaleUp, StabilizationWindowSeconds...).
Written as Go's encoding/json writes them: compact, in the Go types' field order, with <, > and &
escaped."""

from __future__ import annotations

import json

from google.protobuf.message import Message

from podplane.api.autoscaling.v2 import autoscaling_pb2 as v2
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject, JSONValue

METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
ROUND_TRIP = (METRICS, CURRENT_METRICS, CONDITIONS, BEHAVIOR)
# The ones that carry status (a status write's, not a spec write's).
STATUS = (CURRENT_METRICS, CONDITIONS)

JSON = JSONObject


def go_json(value: object) -> str:
    """Go's json.Marshal text of `value` (dicts keep their insertion order: the Go fields')."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _put(out: JSON, key: str, value: object) -> None:
    """An omitempty field: written only when set."""
    if value not in (None, "", [], {}):
        out[key] = value


def _ref(ref: v2.CrossVersionObjectReference) -> JSON:
    out: JSON = {"kind": ref.kind, "name": ref.name}
    _put(out, "apiVersion", ref.api_version)
    return out


def _selector(metric: v2.MetricIdentifier) -> JSON | None:
    return codec.encode(metric.selector) if metric.HasField("selector") else None


def _quantity(value: str) -> str:
    return value or "0"  # a Go resource.Quantity that is not a pointer: "0" when zero


def _opt_int(msg: Message, name: str) -> int | None:
    return getattr(msg, name) if msg.HasField(name) else None


# ------------------------------------------------------------------ v2 -> v1 JSON
def metric_spec(m: v2.MetricSpec) -> JSON:
    out: JSON = {"type": m.type}
    if m.HasField("object"):
        o = m.object
        obj: JSON = {"target": _ref(o.described_object), "metricName": o.metric.name}
        obj["targetValue"] = _quantity(o.target.value)
        _put(obj, "selector", _selector(o.metric))
        _put(obj, "averageValue", o.target.average_value)
        out["object"] = obj
    if m.HasField("pods"):
        p = m.pods
        pods: JSON = {"metricName": p.metric.name}
        pods["targetAverageValue"] = _quantity(p.target.average_value)
        _put(pods, "selector", _selector(p.metric))
        out["pods"] = pods
    if m.HasField("resource"):
        out["resource"] = _resource_source(m.resource.name, m.resource.target)
    if m.HasField("container_resource"):
        c = m.container_resource
        out["containerResource"] = _resource_source(c.name, c.target) | {"container": c.container}
    if m.HasField("external"):
        e = m.external
        ext: JSON = {"metricName": e.metric.name}
        _put(ext, "metricSelector", _selector(e.metric))
        _put(ext, "targetValue", e.target.value)
        _put(ext, "targetAverageValue", e.target.average_value)
        out["external"] = ext
    return out


def _resource_source(name: str, target: v2.MetricTarget) -> JSON:
    out: JSON = {"name": name}
    _put(out, "targetAverageUtilization", _opt_int(target, "average_utilization"))
    _put(out, "targetAverageValue", target.average_value)
    return out


def metric_status(m: v2.MetricStatus) -> JSON:
    out: JSON = {"type": m.type}
    if m.HasField("object"):
        o = m.object
        obj: JSON = {"target": _ref(o.described_object), "metricName": o.metric.name}
        obj["currentValue"] = _quantity(o.current.value)
        _put(obj, "selector", _selector(o.metric))
        _put(obj, "averageValue", o.current.average_value)
        out["object"] = obj
    if m.HasField("pods"):
        p = m.pods
        pods: JSON = {"metricName": p.metric.name}
        pods["currentAverageValue"] = _quantity(p.current.average_value)
        _put(pods, "selector", _selector(p.metric))
        out["pods"] = pods
    if m.HasField("resource"):
        out["resource"] = _resource_status(m.resource.name, m.resource.current)
    if m.HasField("container_resource"):
        c = m.container_resource
        out["containerResource"] = _resource_status(c.name, c.current) | {"container": c.container}
    if m.HasField("external"):
        e = m.external
        ext: JSON = {"metricName": e.metric.name}
        _put(ext, "metricSelector", _selector(e.metric))
        ext["currentValue"] = _quantity(e.current.value)
        _put(ext, "currentAverageValue", e.current.average_value)
        out["external"] = ext
    return out


def _resource_status(name: str, current: v2.MetricValueStatus) -> JSON:
    out: JSON = {"name": name}
    _put(out, "currentAverageUtilization", _opt_int(current, "average_utilization"))
    out["currentAverageValue"] = _quantity(current.average_value)
    return out


def condition(c: v2.HorizontalPodAutoscalerCondition) -> JSON:
    out: JSON = {"type": c.type, "status": c.status}
    out["lastTransitionTime"] = c.last_transition_time or None  # a struct: null when zero
    _put(out, "reason", c.reason)
    _put(out, "message", c.message)
    return out


def _rules(r: v2.HPAScalingRules) -> JSON:
    return {
        "StabilizationWindowSeconds": _opt_int(r, "stabilization_window_seconds"),
        "SelectPolicy": r.select_policy if r.HasField("select_policy") else None,
        "Policies": [
            {"Type": p.type, "Value": p.value, "PeriodSeconds": p.period_seconds}
            for p in r.policies
        ]
        or None,
    }


def behavior(b: v2.HorizontalPodAutoscalerBehavior) -> JSON:
    return {
        "ScaleUp": _rules(b.scale_up) if b.HasField("scale_up") else None,
        "ScaleDown": _rules(b.scale_down) if b.HasField("scale_down") else None,
    }


# ------------------------------------------------------------------ v1 JSON -> v2
def _into_ref(ref: v2.CrossVersionObjectReference, data: JSON) -> None:
    ref.kind, ref.name = data.get("kind") or "", data.get("name") or ""
    ref.api_version = data.get("apiVersion") or ""


def _into_metric(metric: v2.MetricIdentifier, name: object, selector: object) -> None:
    metric.name = str(name or "")
    if isinstance(selector, dict):
        metric.selector.CopyFrom(
            codec.decode(meta_pb2.LabelSelector, selector, codec.FieldValidation.IGNORE)[0]
        )


def _str(data: JSON, key: str) -> str:
    value = data.get(key)
    return str(value) if value is not None else ""


def into_metric_spec(m: v2.MetricSpec, data: JSON) -> None:
    m.type = _str(data, "type")
    if isinstance(o := data.get("object"), dict):
        t = m.object.target
        t.type = "Value" if o.get("averageValue") is None else "AverageValue"
        # Only a non-zero value is kept for an averageValue target: v1 cannot leave it out.
        if t.type == "Value" or _str(o, "targetValue") not in ("", "0"):
            t.value = _str(o, "targetValue") or "0"
        t.average_value = _str(o, "averageValue")
        _into_ref(m.object.described_object, o.get("target") or {})
        _into_metric(m.object.metric, o.get("metricName"), o.get("selector"))
    if isinstance(p := data.get("pods"), dict):
        m.pods.target.type = "AverageValue"
        m.pods.target.average_value = _str(p, "targetAverageValue") or "0"
        _into_metric(m.pods.metric, p.get("metricName"), p.get("selector"))
    if isinstance(r := data.get("resource"), dict):
        m.resource.name = _str(r, "name")
        _into_resource_target(m.resource.target, r)
    if isinstance(c := data.get("containerResource"), dict):
        m.container_resource.name = _str(c, "name")
        m.container_resource.container = _str(c, "container")
        _into_resource_target(m.container_resource.target, c)
    if isinstance(e := data.get("external"), dict):
        t = m.external.target
        t.type = "AverageValue" if e.get("targetValue") is None else "Value"
        t.value, t.average_value = _str(e, "targetValue"), _str(e, "targetAverageValue")
        _into_metric(m.external.metric, e.get("metricName"), e.get("metricSelector"))


def _into_resource_target(t: v2.MetricTarget, data: JSON) -> None:
    utilization = data.get("targetAverageUtilization")
    t.type = "AverageValue" if utilization is None else "Utilization"
    if isinstance(utilization, int):
        t.average_utilization = utilization
    t.average_value = _str(data, "targetAverageValue")


def into_metric_status(m: v2.MetricStatus, data: JSON) -> None:
    m.type = _str(data, "type")
    if isinstance(o := data.get("object"), dict):
        m.object.current.value = _str(o, "currentValue") or "0"
        m.object.current.average_value = _str(o, "averageValue")
        _into_ref(m.object.described_object, o.get("target") or {})
        _into_metric(m.object.metric, o.get("metricName"), o.get("selector"))
    if isinstance(p := data.get("pods"), dict):
        m.pods.current.average_value = _str(p, "currentAverageValue") or "0"
        _into_metric(m.pods.metric, p.get("metricName"), p.get("selector"))
    if isinstance(r := data.get("resource"), dict):
        m.resource.name = _str(r, "name")
        _into_current(m.resource.current, r)
    if isinstance(c := data.get("containerResource"), dict):
        m.container_resource.name = _str(c, "name")
        m.container_resource.container = _str(c, "container")
        _into_current(m.container_resource.current, c)
    if isinstance(e := data.get("external"), dict):
        m.external.current.value = _str(e, "currentValue") or "0"
        m.external.current.average_value = _str(e, "currentAverageValue")
        _into_metric(m.external.metric, e.get("metricName"), e.get("metricSelector"))


def _into_current(current: v2.MetricValueStatus, data: JSON) -> None:
    utilization = data.get("currentAverageUtilization")
    if isinstance(utilization, int):
        current.average_utilization = utilization
    current.average_value = _str(data, "currentAverageValue") or "0"


def into_condition(c: v2.HorizontalPodAutoscalerCondition, data: JSON) -> None:
    c.type, c.status = _str(data, "type"), _str(data, "status")
    c.last_transition_time = _str(data, "lastTransitionTime")
    c.reason, c.message = _str(data, "reason"), _str(data, "message")


def _field(data: JSON, name: str) -> JSONValue:
    """A field of a Go struct without json tags, matched as Go's decoder does: any case."""
    return next((v for k, v in data.items() if k.lower() == name.lower()), None)


def _into_rules(r: v2.HPAScalingRules, data: JSON) -> None:
    window, select = _field(data, "StabilizationWindowSeconds"), _field(data, "SelectPolicy")
    if isinstance(window, int):
        r.stabilization_window_seconds = window
    if isinstance(select, str):
        r.select_policy = select
    for p in _field(data, "Policies") or []:
        if isinstance(p, dict):
            r.policies.add(
                type=str(_field(p, "Type") or ""),
                value=int(_field(p, "Value") or 0),
                period_seconds=int(_field(p, "PeriodSeconds") or 0),
            )


def into_behavior(b: v2.HorizontalPodAutoscalerBehavior, data: JSON) -> None:
    for name, rules in (("ScaleUp", b.scale_up), ("ScaleDown", b.scale_down)):
        if isinstance(value := _field(data, name), dict):
            rules.SetInParent()
            _into_rules(rules, value)
