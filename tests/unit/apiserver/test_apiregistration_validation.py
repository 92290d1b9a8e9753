"""APIService rules in Kubernetes' words (kube-aggregator's ValidateAPIService): the name a path
segment that is the spec's `<version>.<group>`, the group a DNS subdomain (empty for v1 alone),
the version a DNS-1035 label, the priorities in range, a local APIService without a CA bundle or
insecureSkipTLSVerify, a service named by namespace and name; a status write's conditions True,
False or Unknown. Defaults and what a create sets: a service's port 443, a local APIService
Available "Local"."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import apiregistration as defaulting
from apiserver.registry.strategies.apiregistration import STRATEGIES
from apiserver.validation import apiregistration as validation
from apiserver.validation.fields import DNS1035_LABEL_MSG, SUBDOMAIN_MSG
from podplane.api.apiregistration.v1 import apiregistration_pb2
from podplane.apimachinery import manifest

SERVICE = {"namespace": "metrics", "name": "metrics-server"}


APIService = apiregistration_pb2.APIService


def api_service(name: str = "v1beta1.metrics.k8s.io", **spec: Any) -> APIService:
    fields = {
        "group": "metrics.k8s.io",
        "version": "v1beta1",
        "groupPriorityMinimum": 100,
        "versionPriority": 100,
        "service": SERVICE,
        **spec,
    }
    obj = manifest.from_dict(
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": name},
            "spec": {k: v for k, v in fields.items() if v is not None},
        }
    )
    assert isinstance(obj, apiregistration_pb2.APIService)
    return obj


def local(name: str = "v1.apps", **spec: Any) -> APIService:
    return api_service(name, **{"group": "apps", "version": "v1", "service": None, **spec})


NAME_RULE = 'must be `spec.version+"."+spec.group`'


@pytest.mark.parametrize(
    "obj, want",
    [
        (api_service(), []),
        (local(), []),
        (local("v1.", group=""), []),
        (api_service(service={**SERVICE, "port": 8443}), []),
        (
            api_service("v1.metrics.k8s.io"),
            [
                f'metadata.name: Invalid value: "v1.metrics.k8s.io": {NAME_RULE}: '
                '"v1beta1.metrics.k8s.io"'
            ],
        ),
        (
            api_service("v1/metrics"),
            ["metadata.name: Invalid value: \"v1/metrics\": may not contain '/'"],
        ),
        (
            local("v2.", group="", version="v2"),
            [
                "spec.group: Required value: only v1 may have an empty group and it better be "
                "legacy kube"
            ],
        ),
        (
            api_service("v1beta1.Metrics", group="Metrics"),
            [f'spec.group: Invalid value: "Metrics": {SUBDOMAIN_MSG}'],
        ),
        (
            api_service("1beta.metrics.k8s.io", version="1beta"),
            [f'spec.version: Invalid value: "1beta": {DNS1035_LABEL_MSG}'],
        ),
        (
            api_service(groupPriorityMinimum=0),
            ["spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000"],
        ),
        (api_service(groupPriorityMinimum=20000), []),
        (
            api_service(groupPriorityMinimum=20001),
            [
                "spec.groupPriorityMinimum: Invalid value: 20001: must be positive and less "
                "than 20000"
            ],
        ),
        (
            api_service(versionPriority=-1),
            ["spec.versionPriority: Invalid value: -1: must be positive and less than 1000"],
        ),
        (api_service(versionPriority=1000), []),
        (
            api_service(versionPriority=1001),
            ["spec.versionPriority: Invalid value: 1001: must be positive and less than 1000"],
        ),
        (
            local(caBundle="Y2E="),
            ['spec.caBundle: Invalid value: "2 bytes": local APIServices may not have a caBundle'],
        ),
        (
            local(insecureSkipTLSVerify=True),
            [
                "spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not "
                "have insecureSkipTLSVerify"
            ],
        ),
        (
            api_service(service={"port": 443}),
            ["spec.service.namespace: Required value", "spec.service.name: Required value"],
        ),
        (
            api_service(insecureSkipTLSVerify=True, caBundle="Y2E="),
            [
                "spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle "
                "is present"
            ],
        ),
        (api_service(insecureSkipTLSVerify=True), []),
    ],
)
def test_api_service(obj: apiregistration_pb2.APIService, want: list[str]) -> None:
    assert [str(e) for e in validation.api_service(obj)] == want


def test_update_is_checked_as_a_create() -> None:
    old = api_service()
    new = api_service(groupPriorityMinimum=0)
    assert [str(e) for e in validation.api_service_update(new, old)] == [
        "spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000"
    ]


@pytest.mark.parametrize(
    "status, want",
    [
        ("True", []),
        ("False", []),
        ("Unknown", []),
        (
            "Maybe",
            [
                'status.conditions[0].status: Unsupported value: "Maybe": supported values: '
                '"True", "False", "Unknown"'
            ],
        ),
    ],
)
def test_status_update_conditions(status: str, want: list[str]) -> None:
    old = api_service()
    new = api_service()
    new.status.conditions.add(type="Available", status=status, reason="Checking")
    assert [str(e) for e in validation.api_service_status_update(new, old)] == want


def test_a_service_is_reached_on_443_unless_it_names_a_port() -> None:
    named = api_service(service={**SERVICE, "port": 8443})
    unnamed = api_service()
    defaulting.api_service(named)
    defaulting.api_service(unnamed)
    assert (named.spec.service.port, unnamed.spec.service.port) == (8443, 443)
    bare = local()
    defaulting.api_service(bare)
    assert not bare.spec.HasField("service")


def test_create_makes_a_local_api_service_available_and_leaves_a_services_status_alone() -> None:
    (strategy,) = STRATEGIES
    created = local()
    created.status.conditions.add(type="Available", status="False", reason="Mine")
    strategy.prepare_for_create(created)
    [condition] = created.status.conditions
    assert (condition.type, condition.status, condition.reason, condition.message) == (
        "Available",
        "True",
        "Local",
        "Local APIServices are always available",
    )
    assert condition.last_transition_time
    remote = api_service()
    remote.status.conditions.add(type="Available", status="True", reason="Mine")
    strategy.prepare_for_create(remote)
    assert list(remote.status.conditions) == []
