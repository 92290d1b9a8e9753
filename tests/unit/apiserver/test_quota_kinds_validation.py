"""LimitRange, ResourceQuota and PodTemplate rules as pkg/apis/core/validation words them: the
field path and message of each refusal, and what is accepted; LimitRange's defaults."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import quota as quota_defaulting
from apiserver.validation import limit_range, resource_quota, template
from podplane.apimachinery import manifest

META = {"name": "x", "namespace": "default"}


def _limit_range(*limits: dict[str, Any]) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": META,
            "spec": {"limits": list(limits)},
        }
    )


def _quota(spec: dict[str, Any], status: dict[str, Any] | None = None) -> Any:
    body = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": META, "spec": spec}
    return manifest.from_dict({**body, "status": status or {}})


@pytest.mark.parametrize(
    "limits, errors",
    [
        ([{"type": "Container", "max": {"cpu": "1"}, "min": {"cpu": "100m"}}], []),
        (
            [{"type": "Container", "max": {"cpu": "500m"}, "min": {"cpu": "1"}}],
            [
                'spec.limits[0].min[cpu]: Invalid value: "1": min value 1 is greater than max '
                "value 500m"
            ],
        ),
        (
            [
                {
                    "type": "Container",
                    "default": {"memory": "64Mi"},
                    "defaultRequest": {"memory": "128Mi"},
                }
            ],
            [
                'spec.limits[0].defaultRequest[memory]: Invalid value: "128Mi": default request '
                "value 128Mi is greater than default limit value 64Mi"
            ],
        ),
        (
            [{"type": "Container", "max": {"cpu": "1"}, "default": {"cpu": "2"}}],
            [
                'spec.limits[0].default[cpu]: Invalid value: "1": default value 2 is greater '
                "than max value 1"
            ],
        ),
        (
            [{"type": "Container", "maxLimitRequestRatio": {"cpu": "500m"}}],
            [
                'spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m '
                "is less than 1"
            ],
        ),
        (
            [
                {
                    "type": "Container",
                    "min": {"cpu": "100m"},
                    "max": {"cpu": "200m"},
                    "maxLimitRequestRatio": {"cpu": "3"},
                }
            ],
            [
                'spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "3": ratio 3 is '
                "greater than max/min = 2.000000"
            ],
        ),
        (
            [{"type": "Pod", "default": {"cpu": "1"}}],
            ["spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"],
        ),
        (
            [{"type": "PersistentVolumeClaim", "max": {"cpu": "1"}}],
            [
                "spec.limits[0].limits: Required value: either minimum or maximum storage value "
                "is required, but neither was provided"
            ],
        ),
        (
            [{"type": "Node"}],
            [
                'spec.limits[0].type: Invalid value: "Node": must be a standard limit type or '
                "fully qualified"
            ],
        ),
        (
            [{"type": "Container", "max": {"storage": "1Gi"}}],
            [
                'spec.limits[0].max[storage]: Invalid value: "storage": must be a standard '
                "resource for containers"
            ],
        ),
        (
            [{"type": "Container"}, {"type": "Container"}],
            ['spec.limits[1].type: Duplicate value: "Container"'],
        ),
        ([{"type": "example.com/widget", "max": {"example.com/size": "1"}}], []),
    ],
)
def test_limit_range(limits: list[dict[str, Any]], errors: list[str]) -> None:
    assert [str(e) for e in limit_range.limit_range(_limit_range(*limits))] == errors


def test_a_container_items_defaults_come_from_max_then_default_then_min() -> None:
    lr = _limit_range(
        {"type": "Container", "max": {"cpu": "1"}, "min": {"memory": "64Mi"}},
        {"type": "Pod", "max": {"cpu": "2"}},
    )
    quota_defaulting.limit_range(lr)
    container, pod = lr.spec.limits
    assert dict(container.default) == {"cpu": "1"}
    assert dict(container.default_request) == {"cpu": "1", "memory": "64Mi"}
    assert not pod.default and not pod.default_request


@pytest.mark.parametrize(
    "spec, errors",
    [
        ({"hard": {"pods": "10", "requests.cpu": "2", "count/deployments.apps": "3"}}, []),
        (
            {"hard": {"pods": "1.5"}},
            ['spec.hard[pods]: Invalid value: "1.5": must be an integer'],
        ),
        (
            {"hard": {"memory": "-1"}},
            ['spec.hard[memory]: Invalid value: "-1": must be greater than or equal to 0'],
        ),
        (
            {"hard": {"storage": "1Gi"}},
            ['spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota'],
        ),
        (
            {"hard": {"widgets": "1"}},
            [
                'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type '
                "or fully qualified",
                'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for '
                "quota",
            ],
        ),
        (
            {"hard": {"services": "1"}, "scopes": ["BestEffort"]},
            [
                'spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort"}: '
                "unsupported scope applied to resource"
            ],
        ),
        (
            {"hard": {"pods": "1"}, "scopes": ["Terminating", "NotTerminating"]},
            [
                'spec.scopes: Invalid value: []core.ResourceQuotaScope{"Terminating", '
                '"NotTerminating"}: conflicting scopes'
            ],
        ),
        (
            {"hard": {"pods": "1"}, "scopes": ["Sometimes"]},
            [
                'spec.scopes: Invalid value: []core.ResourceQuotaScope{"Sometimes"}: '
                "unsupported scope"
            ],
        ),
        (
            {
                "hard": {"pods": "1"},
                "scopeSelector": {
                    "matchExpressions": [{"scopeName": "PriorityClass", "operator": "In"}]
                },
            },
            [
                "spec.scopeSelector.matchExpressions.values: Required value: must be at least one "
                "value when `operator` is 'In' or 'NotIn' for scope selector"
            ],
        ),
        (
            {
                "hard": {"pods": "1"},
                "scopeSelector": {
                    "matchExpressions": [
                        {"scopeName": "BestEffort", "operator": "In", "values": ["a"]}
                    ]
                },
            },
            [
                'spec.scopeSelector.matchExpressions.operator: Invalid value: "In": '
                + resource_quota.EXISTS_ONLY
            ],
        ),
    ],
)
def test_resource_quota(spec: dict[str, Any], errors: list[str]) -> None:
    assert [str(e) for e in resource_quota.resource_quota(_quota(spec))] == errors


def test_a_quotas_scopes_are_fixed_once_made() -> None:
    old = _quota({"hard": {"pods": "1"}, "scopes": ["Terminating"]})
    new = _quota({"hard": {"pods": "2"}, "scopes": ["NotTerminating"]})
    assert [str(e) for e in resource_quota.resource_quota_update(new, old)] == [
        'spec.scopes: Invalid value: []core.ResourceQuotaScope{"NotTerminating"}: field is '
        "immutable"
    ]


def test_a_status_write_checks_hard_and_used() -> None:
    q = _quota({"hard": {"pods": "1"}}, {"hard": {"pods": "1"}, "used": {"pods": "0.5"}})
    assert [str(e) for e in resource_quota.resource_quota_status_update(q, q)] == [
        'status.used[pods]: Invalid value: "0.5": must be an integer'
    ]


def test_a_pod_templates_template_is_checked_as_a_controllers() -> None:
    pt: Any = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": META,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{"name": "web"}],
                    "restartPolicy": "Always",
                    "dnsPolicy": "ClusterFirst",
                },
            },
        }
    )
    errors = [str(e) for e in template.pod_template_object(pt)]
    assert "template.spec.containers[0].image: Required value" in errors
