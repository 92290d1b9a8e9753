"""The resource quota controller's count (podplane/apimachinery/quota/usage.py, which admission
counts with too): what a namespace's objects use of a quota's hard resources, by scope, with
finished pods and pods past their grace period giving their share back; and the status it writes
(hard from spec, used masked to it) only when it changes. What starts a sync, as Kubernetes'
controller and quota monitor have it: a change of spec.hard (not of status, which the admission
plugin writes as it charges an object), and an update that gives quota back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controller.resourcequota.controller import (
    hard_changed,
    new_status,
    replenishes,
    status_changed,
)
from podplane.apimachinery import manifest
from podplane.apimachinery.quota import usage
from podplane.apimachinery.quota.evaluators import Evaluator

NOW = datetime(2026, 11, 21, 15, 10, tzinfo=UTC)


def _quota(spec: dict[str, Any], status: dict[str, Any] | None = None) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "q", "namespace": "default"},
            "spec": spec,
            "status": status or {},
        }
    )


def _pod(name: str, cpu: str = "", memory: str = "", **more: Any) -> Any:
    resources = {"requests": {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}}
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", **more.pop("metadata", {})},
            "spec": {"containers": [{"name": "c", "image": "busybox", "resources": resources}]},
            **more,
        }
    )


def _objects(**by_plural: list[Any]) -> Any:
    def of(e: Evaluator) -> list[Any]:
        return by_plural.get(e.plural, [])

    return of


def test_used_counts_running_pods_and_not_finished_ones() -> None:
    q = _quota(
        {"hard": {"pods": "10", "requests.cpu": "4", "requests.memory": "1Gi", "count/pods": "10"}}
    )
    pods = [
        _pod("a", cpu="500m", memory="128Mi"),
        _pod("b", cpu="250m", memory="128Mi"),
        _pod("done", cpu="1", status={"phase": "Succeeded"}),
        _pod(
            "gone",
            cpu="1",
            metadata={
                "deletionTimestamp": "2026-11-21T15:00:00Z",
                "deletionGracePeriodSeconds": 30,
            },
        ),
    ]
    used = usage.calculate(q, _objects(pods=pods), NOW)
    assert {n: str(v) for n, v in used.items()} == {
        "pods": "2",
        "requests.cpu": "750m",
        "requests.memory": "256Mi",
        "count/pods": "4",
    }


def test_a_scoped_quota_counts_only_the_pods_in_scope() -> None:
    q = _quota({"hard": {"pods": "10"}, "scopes": ["BestEffort"]})
    pods = [_pod("plain"), _pod("sized", cpu="100m")]
    assert {n: str(v) for n, v in usage.calculate(q, _objects(pods=pods), NOW).items()} == {
        "pods": "1"
    }


def test_object_counts_start_at_zero() -> None:
    q = _quota({"hard": {"secrets": "5", "services": "2", "count/deployments.apps": "1"}})
    assert {n: str(v) for n, v in usage.calculate(q, _objects(), NOW).items()} == {
        "secrets": "0",
        "services": "0",
        "count/deployments.apps": "0",
    }


def test_the_status_written_is_spec_hard_and_used_masked_to_it() -> None:
    q = _quota(
        {"hard": {"pods": "3"}},
        {"hard": {"pods": "2", "secrets": "1"}, "used": {"pods": "1", "secrets": "0"}},
    )
    status = new_status(q, {"pods": "2"})
    assert dict(status.hard) == {"pods": "3"} and dict(status.used) == {"pods": "2"}
    assert status_changed(q.status, status)
    assert not status_changed(
        status, new_status(_quota({"hard": {"pods": "3"}}, {}), {"pods": "2"})
    )


def test_only_a_change_of_what_a_quota_limits_syncs_it() -> None:
    before = _quota({"hard": {"pods": "2", "cpu": "1"}}, {"used": {"pods": "1"}})
    charged = _quota({"hard": {"pods": "2", "cpu": "1"}}, {"used": {"pods": "2"}})
    assert not hard_changed(before, charged)  # the admission plugin charged a pod
    assert not hard_changed(before, _quota({"hard": {"pods": "2", "cpu": "1000m"}}))
    assert hard_changed(before, _quota({"hard": {"pods": "3", "cpu": "1"}}))
    assert hard_changed(before, _quota({"hard": {"pods": "2"}}))


def test_a_pod_gives_quota_back_when_it_stops_counting_not_when_created_or_running() -> None:
    pending = _pod("p", cpu="1", status={"phase": "Pending"})
    running = _pod("p", cpu="1", status={"phase": "Running"})
    done = _pod("p", cpu="1", status={"phase": "Succeeded"})
    failed = _pod("p", cpu="1", status={"phase": "Failed"})
    assert not replenishes("pods", pending, running, NOW)
    assert replenishes("pods", running, done, NOW)
    assert replenishes("pods", running, failed, NOW)
    assert not replenishes("pods", done, done, NOW)
    deleting = {"deletionTimestamp": "2026-11-21T15:09:00Z", "deletionGracePeriodSeconds": 30}
    past_grace = _pod("p", cpu="1", metadata=deleting, status={"phase": "Running"})
    assert replenishes("pods", running, past_grace, NOW)
    within = {**deleting, "deletionGracePeriodSeconds": 3600}
    assert not replenishes("pods", running, _pod("p", cpu="1", metadata=within), NOW)


def _service(type_: str) -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s", "namespace": "default"},
            "spec": {"type": type_, "ports": [{"port": 80}]},
        }
    )


def test_a_service_gives_quota_back_when_its_counted_type_changes() -> None:
    assert replenishes("services", _service("ClusterIP"), _service("NodePort"), NOW)
    assert replenishes("services", _service("NodePort"), _service("LoadBalancer"), NOW)
    assert replenishes("services", _service("LoadBalancer"), _service("ClusterIP"), NOW)
    # Neither is counted apart from a Service (GetQuotaServiceType's "").
    assert not replenishes("services", _service("ClusterIP"), _service("ExternalName"), NOW)
    assert not replenishes("services", _service("NodePort"), _service("NodePort"), NOW)


def test_other_kinds_give_quota_back_only_when_deleted() -> None:
    cm = manifest.from_dict(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}}
    )
    assert not replenishes("configmaps", cm, cm, NOW)
