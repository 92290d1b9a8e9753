"""The resource quota controller's count (podplane/apimachinery/quota/usage.py, which admission
counts with too): what a namespace's objects use of a quota's hard resources, by scope, with
finished pods and pods past their grace period giving their share back; and the status it writes
(hard from spec, used masked to it) only when it changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controller.resourcequota.controller import new_status, status_changed
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
