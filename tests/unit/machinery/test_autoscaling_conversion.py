"""HorizontalPodAutoscaler between autoscaling/v2 and autoscaling/v1, as Kubernetes'
pkg/apis/autoscaling/v1/conversion.go: v1's CPU target is v2's cpu Utilization metric, what v1
cannot hold rides in annotations in Kubernetes' JSON, and a v2 object converted to v1 and back
loses nothing."""

from __future__ import annotations

import json

import pytest

from podplane.api.autoscaling.v1 import autoscaling_pb2 as v1
from podplane.api.autoscaling.v2 import autoscaling_pb2 as v2
from podplane.apimachinery import codec
from podplane.apimachinery.autoscaling import conversion, round_trip


def _v2(
    spec: dict[str, object], status: dict[str, object] | None = None
) -> v2.HorizontalPodAutoscaler:
    doc = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default", "annotations": {"team": "a"}},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5, **spec},
    }
    if status is not None:
        doc["status"] = status
    return codec.decode(v2.HorizontalPodAutoscaler, doc)[0]


CPU = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
}
MEMORY = {
    "type": "Resource",
    "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}},
}
PODS = {
    "type": "Pods",
    "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}},
}
EXTERNAL = {
    "type": "External",
    "external": {
        "metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
        "target": {"type": "Value", "value": "30"},
    },
}
OBJECT = {
    "type": "Object",
    "object": {
        "describedObject": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "name": "main",
        },
        "metric": {"name": "rps"},
        "target": {"type": "Value", "value": "2k"},
    },
}
BEHAVIOR = {
    "scaleUp": {
        "stabilizationWindowSeconds": 0,
        "selectPolicy": "Max",
        "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}],
    },
    "scaleDown": {
        "selectPolicy": "Min",
        "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}],
    },
}
STATUS = {
    "currentReplicas": 2,
    "desiredReplicas": 3,
    "observedGeneration": 4,
    "currentMetrics": [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "current": {"averageUtilization": 40, "averageValue": "200m"},
            },
        },
        {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": {"averageValue": "9"}}},
    ],
    "conditions": [
        {
            "type": "AbleToScale",
            "status": "True",
            "lastTransitionTime": "2024-01-01T00:00:00Z",
            "reason": "ReadyForNewScale",
            "message": "recommended size matches current size",
        }
    ],
}


@pytest.mark.parametrize(
    ("spec", "status"),
    [
        ({"metrics": [CPU]}, None),
        ({"metrics": [MEMORY, CPU]}, None),
        (
            {"minReplicas": 2, "metrics": [PODS, EXTERNAL, OBJECT, CPU], "behavior": BEHAVIOR},
            STATUS,
        ),
        ({"metrics": [MEMORY]}, STATUS),
    ],
    ids=["cpu-only", "memory-and-cpu", "every-source-behavior-status", "no-cpu-target"],
)
def test_v2_through_v1_loses_nothing(
    spec: dict[str, object], status: dict[str, object] | None
) -> None:
    original = _v2(spec, status)
    back = conversion.to_v2(conversion.to_v1(original))
    assert codec.encode(back) == codec.encode(original)


def test_cpu_target_and_carried_annotations() -> None:
    out = conversion.to_v1(_v2({"metrics": [CPU, MEMORY], "behavior": BEHAVIOR}, STATUS))
    assert out.api_version == "autoscaling/v1"
    assert out.spec.target_cpu_utilization_percentage == 50
    assert out.status.current_cpu_utilization_percentage == 40
    notes = out.metadata.annotations
    assert notes["team"] == "a"
    assert json.loads(notes[round_trip.METRICS]) == [
        {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "500Mi"}}
    ]
    assert json.loads(notes[round_trip.CURRENT_METRICS])[0] == {
        "type": "Resource",
        "resource": {"name": "cpu", "currentAverageUtilization": 40, "currentAverageValue": "200m"},
    }
    # The behavior as Kubernetes' internal Go type writes it: no json tags.
    assert json.loads(notes[round_trip.BEHAVIOR])["ScaleDown"] == {
        "StabilizationWindowSeconds": None,
        "SelectPolicy": "Min",
        "Policies": [{"Type": "Percent", "Value": 10, "PeriodSeconds": 60}],
    }
    assert json.loads(notes[round_trip.CONDITIONS])[0]["reason"] == "ReadyForNewScale"


def test_v1_without_target_gets_the_default_cpu_metric() -> None:
    obj = v1.HorizontalPodAutoscaler()
    obj.metadata.name = "web"
    obj.spec.scale_target_ref.kind, obj.spec.scale_target_ref.name = "Deployment", "web"
    obj.spec.max_replicas = 3
    out = conversion.to_v2(obj)
    assert codec.encode(out)["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        }
    ]


def test_v1_annotations_are_consumed_and_not_stored() -> None:
    obj = conversion.to_v1(_v2({"metrics": [MEMORY, CPU]}))
    stored = conversion.to_v2(obj)
    assert dict(stored.metadata.annotations) == {"team": "a"}
    # A v1 writer that drops the annotation drops the other metrics (as in Kubernetes).
    del obj.metadata.annotations[round_trip.METRICS]
    assert [m.resource.name for m in conversion.to_v2(obj).spec.metrics] == ["cpu"]


def test_bad_annotation_json_is_ignored() -> None:
    obj = conversion.to_v1(_v2({"metrics": [CPU]}))
    obj.metadata.annotations[round_trip.METRICS] = "{not json"
    assert [m.resource.name for m in conversion.to_v2(obj).spec.metrics] == ["cpu"]


def test_go_json_escapes_html() -> None:
    assert round_trip.go_json({"a": "<&>"}) == '{"a":"\\u003c\\u0026\\u003e"}'
