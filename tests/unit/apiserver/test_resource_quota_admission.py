"""The ResourceQuota admission plugin: what a write uses is added to each matching quota's
status.used, or the write is refused in Kubernetes' words (exceeded quota, failed quota, status
unknown); scopes decide which quotas a pod counts against; a dry run writes no status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from apiserver import errors
from apiserver.admission.resource_quota import ResourceQuotaAdmission
from podplane.api.core.v1 import quota_pb2
from podplane.apimachinery import manifest
from tests.unit.apiserver.admission_calls import admit_create


class Quotas:
    """A namespace's quotas, their status writes recorded."""

    def __init__(self, *quotas: dict[str, Any]) -> None:
        self.items: list[quota_pb2.ResourceQuota] = [
            manifest.from_dict(
                {
                    "apiVersion": "v1",
                    "kind": "ResourceQuota",
                    "metadata": {"name": q["name"], "namespace": "default", "resourceVersion": "1"},
                    "spec": q["spec"],
                    "status": q["status"]
                    if "status" in q
                    else {"hard": q["spec"]["hard"], "used": q["used"]},
                },
                quota_pb2.ResourceQuota,
            )
            for q in quotas
        ]
        self.writes: list[quota_pb2.ResourceQuota] = []

    async def stored(self, namespace: str) -> Sequence[quota_pb2.ResourceQuota]:
        return self.items

    async def update_status(self, q: quota_pb2.ResourceQuota) -> quota_pb2.ResourceQuota:
        self.writes.append(q)
        self.items = [q if i.metadata.name == q.metadata.name else i for i in self.items]
        return q

    def plugin(self) -> ResourceQuotaAdmission:
        return ResourceQuotaAdmission(lambda ns: bool(self.items), self.stored, self.update_status)


def _pod(resources: dict[str, Any] | None = None, **spec: Any) -> Any:
    container = {"name": "c", "image": "busybox", "resources": resources or {}}
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "x", "namespace": "default"},
            "spec": {"containers": [container], **spec},
        }
    )


async def test_a_pod_within_quota_raises_used() -> None:
    quotas = Quotas(
        {
            "name": "q",
            "spec": {"hard": {"pods": "2", "requests.cpu": "1"}},
            "used": {"pods": "1", "requests.cpu": "250m"},
        }
    )
    await admit_create(quotas.plugin(), _pod({"requests": {"cpu": "500m"}}))
    assert dict(quotas.writes[0].status.used) == {"pods": "2", "requests.cpu": "750m"}


async def test_a_pod_past_the_quota_is_refused_in_kubernetes_words() -> None:
    quotas = Quotas({"name": "q", "spec": {"hard": {"pods": "2"}}, "used": {"pods": "2"}})
    with pytest.raises(errors.APIError) as refused:
        await admit_create(quotas.plugin(), _pod())
    assert refused.value.message == (
        'pods "x" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2'
    )
    assert quotas.writes == []


async def test_a_pod_without_a_tracked_limit_is_refused() -> None:
    quotas = Quotas(
        {"name": "q", "spec": {"hard": {"limits.cpu": "2"}}, "used": {"limits.cpu": "0"}}
    )
    with pytest.raises(errors.APIError) as refused:
        await admit_create(quotas.plugin(), _pod({"requests": {"cpu": "1"}}))
    assert (
        refused.value.message
        == 'pods "x" is forbidden: failed quota: q: must specify limits.cpu for: c'
    )


async def test_a_quota_the_controller_has_not_counted_refuses() -> None:
    quotas = Quotas(
        {"name": "q", "spec": {"hard": {"pods": "2"}}, "status": {"hard": {"pods": "2"}}}
    )
    with pytest.raises(errors.APIError) as refused:
        await admit_create(quotas.plugin(), _pod())
    assert (
        refused.value.message
        == 'pods "x" is forbidden: status unknown for quota: q, resources: pods'
    )


async def test_scopes_choose_the_quotas_a_pod_counts_against() -> None:
    quotas = Quotas(
        {
            "name": "best-effort",
            "spec": {"hard": {"pods": "1"}, "scopes": ["BestEffort"]},
            "used": {"pods": "1"},
        },
        {
            "name": "terminating",
            "spec": {"hard": {"pods": "5"}, "scopes": ["Terminating"]},
            "used": {"pods": "0"},
        },
    )
    # Not best effort, and with a deadline: only the Terminating quota counts it.
    await admit_create(quotas.plugin(), _pod({"requests": {"cpu": "1"}}, activeDeadlineSeconds=60))
    assert [(q.metadata.name, dict(q.status.used)) for q in quotas.writes] == [
        ("terminating", {"pods": "1"})
    ]


async def test_a_priority_class_selector() -> None:
    quotas = Quotas(
        {
            "name": "high",
            "spec": {
                "hard": {"pods": "0"},
                "scopeSelector": {
                    "matchExpressions": [
                        {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}
                    ]
                },
            },
            "used": {"pods": "0"},
        }
    )
    await admit_create(quotas.plugin(), _pod(priorityClassName="low"))
    with pytest.raises(errors.APIError, match="exceeded quota: high"):
        await admit_create(quotas.plugin(), _pod(priorityClassName="high"))


async def test_object_counts_and_services() -> None:
    quotas = Quotas(
        {
            "name": "objects",
            "spec": {
                "hard": {"configmaps": "5", "count/configmaps": "5", "services.nodeports": "1"}
            },
            "used": {"configmaps": "1", "count/configmaps": "1", "services.nodeports": "0"},
        }
    )
    cm = manifest.from_dict(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}}
    )
    await admit_create(quotas.plugin(), cm)
    assert dict(quotas.items[0].status.used)["count/configmaps"] == "2"
    svc = manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s", "namespace": "default"},
            "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81}]},
        }
    )
    with pytest.raises(errors.APIError) as refused:
        await admit_create(quotas.plugin(), svc)
    assert refused.value.message == (
        'services "s" is forbidden: exceeded quota: objects, requested: services.nodeports=2, '
        "used: services.nodeports=0, limited: services.nodeports=1"
    )


async def test_a_dry_run_writes_no_status() -> None:
    quotas = Quotas({"name": "q", "spec": {"hard": {"pods": "2"}}, "used": {"pods": "0"}})
    await admit_create(quotas.plugin(), _pod(), dry_run=True)
    assert quotas.writes == []
