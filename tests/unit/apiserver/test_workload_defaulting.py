"""Workload defaults as kube-apiserver fills them in, and the selector it generates for a Job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apiserver.defaulting import jobs as job_defaulting
from apiserver.defaulting import workloads as workload_defaulting
from podplane.apimachinery import manifest

CONTAINERS = [{"name": "main", "image": "busybox"}]


def defaulted(kind: str, api_version: str, spec: dict[str, Any], **meta: Any) -> Any:
    obj: Any = manifest.from_dict(
        {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", **meta}, "spec": spec}
    )
    defaults: dict[str, Callable[[Any], None]] = {
        "ReplicationController": workload_defaulting.replication_controller,
        "ReplicaSet": workload_defaulting.replica_set,
        "Deployment": workload_defaulting.deployment,
        "Job": job_defaulting.job,
    }
    defaults[kind](obj)
    return obj


@pytest.mark.parametrize(
    ("kind", "api_version"),
    [
        ("ReplicationController", "v1"),
        ("ReplicaSet", "apps/v1"),
        ("Deployment", "apps/v1"),
        ("Job", "batch/v1"),
    ],
)
def test_template_pod_spec_gets_a_pods_defaults(kind: str, api_version: str) -> None:
    obj = defaulted(kind, api_version, {"template": {"spec": {"containers": CONTAINERS}}})
    spec = obj.spec.template.spec
    assert spec.restart_policy == "Always"
    assert spec.dns_policy == "ClusterFirst"
    assert spec.scheduler_name == "default-scheduler"
    assert spec.termination_grace_period_seconds == 30
    assert spec.containers[0].image_pull_policy == "Always"
    assert spec.containers[0].termination_message_path == "/dev/termination-log"
    # The not-ready/unreachable tolerations are admission's, for pods only.
    assert list(spec.tolerations) == []


@pytest.mark.parametrize(
    ("kind", "api_version"),
    [
        ("ReplicationController", "v1"),
        ("ReplicaSet", "apps/v1"),
        ("Deployment", "apps/v1"),
    ],
)
def test_replicas(kind: str, api_version: str) -> None:
    assert defaulted(kind, api_version, {}).spec.replicas == 1
    assert defaulted(kind, api_version, {"replicas": 0}).spec.replicas == 0


def test_replication_controller_selector_and_labels_come_from_the_template() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": CONTAINERS}}
    rc = defaulted("ReplicationController", "v1", {"template": template})
    assert dict(rc.spec.selector) == {"app": "web"}
    assert dict(rc.metadata.labels) == {"app": "web"}
    own = defaulted(
        "ReplicationController",
        "v1",
        {"template": template, "selector": {"a": "b"}},
        labels={"team": "x"},
    )
    assert dict(own.spec.selector) == {"a": "b"}
    assert dict(own.metadata.labels) == {"team": "x"}


def test_deployment_defaults() -> None:
    d = defaulted("Deployment", "apps/v1", {})
    assert d.spec.strategy.type == "RollingUpdate"
    assert d.spec.strategy.rolling_update.max_unavailable == "25%"
    assert d.spec.strategy.rolling_update.max_surge == "25%"
    assert d.spec.revision_history_limit == 10
    assert d.spec.progress_deadline_seconds == 600
    assert d.spec.paused is False


def test_deployment_keeps_what_is_set() -> None:
    d = defaulted(
        "Deployment",
        "apps/v1",
        {"strategy": {"rollingUpdate": {"maxSurge": 0}}, "revisionHistoryLimit": 0},
    )
    assert d.spec.strategy.rolling_update.max_surge == "0"
    assert d.spec.strategy.rolling_update.max_unavailable == "25%"
    assert d.spec.revision_history_limit == 0
    recreate = defaulted("Deployment", "apps/v1", {"strategy": {"type": "Recreate"}})
    assert not recreate.spec.strategy.HasField("rolling_update")


@pytest.mark.parametrize(
    ("spec", "parallelism", "completions"),
    [
        ({}, 1, 1),
        ({"parallelism": 3}, 3, None),
        ({"completions": 5}, 1, 5),
        ({"parallelism": 2, "completions": 4}, 2, 4),
        ({"parallelism": 0}, 0, None),
    ],
)
def test_job_parallelism_and_completions(
    spec: dict[str, Any], parallelism: int, completions: int | None
) -> None:
    job = defaulted("Job", "batch/v1", spec)
    assert job.spec.parallelism == parallelism
    assert (job.spec.completions if job.spec.HasField("completions") else None) == completions


def test_job_defaults() -> None:
    job = defaulted("Job", "batch/v1", {})
    assert job.spec.backoff_limit == 6
    assert job.spec.completion_mode == "NonIndexed"
    assert job.spec.HasField("suspend") and job.spec.suspend is False
    # Kubernetes 1.29+ defaults manualSelector (kubernetes#120206) and, with the
    # JobPodReplacementPolicy gate on (1.31), podReplacementPolicy.
    assert job.spec.HasField("manual_selector") and job.spec.manual_selector is False
    assert job.spec.pod_replacement_policy == "TerminatingOrFailed"
    assert defaulted("Job", "batch/v1", {"backoffLimit": 0}).spec.backoff_limit == 0


def test_job_labels_default_to_template_labels() -> None:
    template = {"metadata": {"labels": {"app": "pi"}}}
    assert dict(defaulted("Job", "batch/v1", {"template": template}).metadata.labels) == {
        "app": "pi"
    }
    own = defaulted("Job", "batch/v1", {"template": template}, labels={"team": "x"})
    assert dict(own.metadata.labels) == {"team": "x"}


def test_generated_job_selector_and_labels() -> None:
    job = defaulted(
        "Job",
        "batch/v1",
        {"template": {"metadata": {"labels": {"app": "pi"}}, "spec": {"containers": CONTAINERS}}},
    )
    job.metadata.uid = "uid-1"
    job_defaulting.generate_job_selector(job)
    assert dict(job.spec.selector.match_labels) == {"batch.kubernetes.io/controller-uid": "uid-1"}
    assert dict(job.spec.template.metadata.labels) == {
        "app": "pi",
        "batch.kubernetes.io/controller-uid": "uid-1",
        "batch.kubernetes.io/job-name": "x",
        "controller-uid": "uid-1",
        "job-name": "x",
    }
    assert dict(job.metadata.labels) == {"app": "pi"}  # defaulted before generation


def test_job_without_template_labels_is_labelled_like_its_pods() -> None:
    job = defaulted("Job", "batch/v1", {"template": {"spec": {"containers": CONTAINERS}}})
    job.metadata.uid = "uid-2"
    job_defaulting.generate_job_selector(job)
    assert dict(job.metadata.labels) == dict(job.spec.template.metadata.labels)
    assert job.metadata.labels["job-name"] == "x"


def test_manual_selector_is_left_alone() -> None:
    job = defaulted(
        "Job",
        "batch/v1",
        {
            "manualSelector": True,
            "selector": {"matchLabels": {"app": "pi"}},
            "template": {"metadata": {"labels": {"app": "pi"}}},
        },
    )
    job.metadata.uid = "uid-3"
    job_defaulting.generate_job_selector(job)
    assert dict(job.spec.selector.match_labels) == {"app": "pi"}
    assert dict(job.spec.template.metadata.labels) == {"app": "pi"}


def test_user_labels_are_kept_so_a_conflict_fails_validation() -> None:
    job = defaulted("Job", "batch/v1", {"template": {"metadata": {"labels": {"job-name": "y"}}}})
    job.metadata.uid = "uid-4"
    job_defaulting.generate_job_selector(job)
    assert job.spec.template.metadata.labels["job-name"] == "y"
