"""Defaults a Kubernetes user expects the server to fill in."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.defaulting import pod as pod_defaulting
from podplane.apimachinery import manifest
from podplane.apimachinery.images import default_pull_policy


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("busybox:1.36", "IfNotPresent"),
        ("registry:5000/team/app", "Always"),
        ("registry:5000/team/app:v2", "IfNotPresent"),
        ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert default_pull_policy(image) == policy


def defaulted(spec: dict[str, Any]) -> Any:
    pod: Any = manifest.from_dict(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    )
    pod_defaulting.pod(pod)
    return pod


def test_pod_defaults() -> None:
    pod = defaulted(
        {
            "containers": [
                {
                    "name": "a",
                    "image": "busybox",
                    "ports": [{"containerPort": 80}],
                    "readinessProbe": {"httpGet": {"port": 80}},
                }
            ]
        }
    )
    assert pod.spec.restart_policy == "Always"
    assert pod.spec.termination_grace_period_seconds == 30
    assert pod.spec.dns_policy == "ClusterFirst"
    assert pod.spec.scheduler_name == "default-scheduler"
    c = pod.spec.containers[0]
    assert c.image_pull_policy == "Always"
    assert c.ports[0].protocol == "TCP"
    assert (
        c.readiness_probe.period_seconds,
        c.readiness_probe.timeout_seconds,
        c.readiness_probe.failure_threshold,
        c.readiness_probe.http_get.path,
    ) == (10, 1, 3, "/")
    # The tolerations are DefaultTolerationSeconds admission's, not a default: added after the
    # request's fields are recorded as its manager's.
    assert list(pod.spec.tolerations) == []
    pod_defaulting.default_tolerations(pod.spec)
    assert [(t.key, t.toleration_seconds) for t in pod.spec.tolerations] == [
        ("node.kubernetes.io/not-ready", 300),
        ("node.kubernetes.io/unreachable", 300),
    ]


def test_explicit_values_are_kept() -> None:
    pod = defaulted(
        {
            "restartPolicy": "OnFailure",
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "a", "image": "busybox", "imagePullPolicy": "IfNotPresent"}],
            "tolerations": [{"operator": "Exists"}],
        }
    )
    assert pod.spec.restart_policy == "OnFailure"
    assert pod.spec.termination_grace_period_seconds == 0
    assert pod.spec.containers[0].image_pull_policy == "IfNotPresent"
    assert len(pod.spec.tolerations) == 1  # tolerates everything already
