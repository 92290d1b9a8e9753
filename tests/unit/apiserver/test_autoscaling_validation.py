"""HorizontalPodAutoscaler defaults (autoscaling/v2 defaults.go, v1's minReplicas) and validation
(pkg/apis/autoscaling/validation) with Kubernetes' texts and field paths, at both versions."""

from __future__ import annotations

import pytest

from apiserver.defaulting import autoscaling as defaulting
from apiserver.registry.strategies.autoscaling import OTHER_VERSIONS, STRATEGIES
from apiserver.validation import autoscaling as validation
from podplane.api.autoscaling.v1 import autoscaling_pb2 as v1
from podplane.api.autoscaling.v2 import autoscaling_pb2 as v2
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject, JSONValue


def _hpa(**spec: JSONValue) -> v2.HorizontalPodAutoscaler:
    body: JSONObject = {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "maxReplicas": 5,
    }
    body.update(spec)
    doc = {"metadata": {"name": "web", "namespace": "default"}, "spec": body}
    return codec.decode(v2.HorizontalPodAutoscaler, doc)[0]


def _errors(obj: v2.HorizontalPodAutoscaler) -> list[str]:
    return [str(e) for e in validation.horizontal_pod_autoscaler(obj)]


def test_v2_defaults() -> None:
    obj = _hpa(behavior={"scaleDown": {"stabilizationWindowSeconds": 60}})
    defaulting.horizontal_pod_autoscaler(obj)
    assert codec.encode(obj)["spec"] == {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 5,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            }
        ],
        "behavior": {
            "scaleUp": {
                "stabilizationWindowSeconds": 0,
                "selectPolicy": "Max",
                "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                    {"type": "Percent", "value": 100, "periodSeconds": 15},
                ],
            },
            "scaleDown": {
                "stabilizationWindowSeconds": 60,
                "selectPolicy": "Max",
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
            },
        },
    }


def test_behavior_defaulted_only_when_given() -> None:
    obj = _hpa()
    defaulting.horizontal_pod_autoscaler(obj)
    assert not obj.spec.HasField("behavior")
    scale_down = _hpa(behavior={"scaleUp": {"selectPolicy": "Min"}})
    defaulting.horizontal_pod_autoscaler(scale_down)
    assert not scale_down.spec.behavior.scale_down.HasField("stabilization_window_seconds")
    assert scale_down.spec.behavior.scale_up.select_policy == "Min"


def test_v1_defaults() -> None:
    obj = v1.HorizontalPodAutoscaler()
    obj.spec.scale_target_ref.kind, obj.spec.scale_target_ref.name = "Deployment", "web"
    obj.spec.max_replicas = 4
    defaulting.horizontal_pod_autoscaler_v1(obj)
    assert obj.spec.min_replicas == 1
    assert obj.spec.target_cpu_utilization_percentage == 80


CPU = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"minReplicas": 0},
            "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
        ),
        ({"maxReplicas": 0}, "spec.maxReplicas: Invalid value: 0: must be greater than 0"),
        (
            {"minReplicas": 6},
            "spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`",
        ),
        ({"scaleTargetRef": {"name": "web"}}, "spec.scaleTargetRef.kind: Required value"),
        (
            {"scaleTargetRef": {"kind": "Deployment", "name": "a/b"}},
            "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'",
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 0},
                        },
                    }
                ]
            },
            (
                "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0:"
                " must be greater than 0"
            ),
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization"}},
                    }
                ]
            },
            (
                "spec.metrics[0].resource.target.averageUtilization: Required value:"
                " must set either a target raw value or a target utilization"
            ),
        ),
        (
            {"metrics": [{"type": "Pods"}]},
            (
                "spec.metrics[0].pods: Required value: must populate information for"
                " the given metric source"
            ),
        ),
        (
            {"metrics": [{"type": "Nope"}]},
            (
                'spec.metrics[0].type: Unsupported value: "Nope": supported values:'
                ' "ContainerResource", "External", "Object", "Pods", "Resource"'
            ),
        ),
        (
            {
                "metrics": [
                    {
                        **CPU,
                        "pods": {
                            "metric": {"name": "q"},
                            "target": {"type": "AverageValue", "averageValue": "1"},
                        },
                    }
                ]
            },
            "spec.metrics[0].pods: Forbidden: must populate the given metric source only",
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Bogus", "averageUtilization": 5},
                        },
                    }
                ]
            },
            (
                'spec.metrics[0].resource.target.type: Invalid value: "Bogus": must be'
                " either Utilization, Value, or AverageValue"
            ),
        ),
        (
            {
                "behavior": {
                    "scaleUp": {
                        "stabilizationWindowSeconds": 3601,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 1}],
                    }
                }
            },
            (
                "spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value:"
                " 3601: must be less than or equal to 3600"
            ),
        ),
        (
            {
                "behavior": {
                    "scaleDown": {
                        "selectPolicy": "Any",
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 1}],
                    }
                }
            },
            (
                'spec.behavior.scaleDown.selectPolicy: Unsupported value: "Any":'
                ' supported values: "Disabled", "Max", "Min"'
            ),
        ),
        (
            {"behavior": {"scaleDown": {"selectPolicy": "Max"}}},
            "spec.behavior.scaleDown.policies: Required value: must specify at least one Policy",
        ),
        (
            {
                "behavior": {
                    "scaleDown": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 1801}]}
                }
            },
            (
                "spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value:"
                " 1801: must be less than or equal to 1800"
            ),
        ),
        (
            {
                "behavior": {
                    "scaleDown": {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 1}]}
                }
            },
            (
                "spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be"
                " greater than zero"
            ),
        ),
    ],
)
def test_validation_messages(spec: JSONObject, expected: str) -> None:
    assert expected in _errors(_hpa(**spec))


def test_valid_autoscaler() -> None:
    assert _errors(_hpa(minReplicas=1, metrics=[CPU])) == []


def test_status_update_counts_are_non_negative() -> None:
    new = _hpa()
    new.status.desired_replicas = -1
    errs = [str(e) for e in validation.horizontal_pod_autoscaler_status_update(new, _hpa())]
    assert errs == ["status.desiredReplicas: Invalid value: -1: must be greater than or equal to 0"]


def test_v1_is_validated_at_v2_paths() -> None:
    (v1_strategy,) = OTHER_VERSIONS
    obj = v1.HorizontalPodAutoscaler()
    obj.metadata.name = "web"
    obj.spec.scale_target_ref.kind, obj.spec.scale_target_ref.name = "Deployment", "web"
    obj.spec.max_replicas = 3
    obj.spec.target_cpu_utilization_percentage = 0
    assert [str(e) for e in v1_strategy.validate(obj)] == [
        (
            "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0:"
            " must be greater than 0"
        )
    ]


def test_create_clears_status() -> None:
    (v2_strategy,) = STRATEGIES
    obj = _hpa()
    obj.status.desired_replicas = 3
    v2_strategy.prepare_for_create(obj)
    assert not obj.HasField("status")
