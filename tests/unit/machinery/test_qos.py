"""A pod's QoS class as Kubernetes computes it (ComputePodQOS: cpu and memory only, zero
quantities as unset), and the cgroup the kubelet runs it in by that class."""

from __future__ import annotations

from typing import Any

import pytest

from podplane.apimachinery import manifest
from podplane.apimachinery.qos import pod_cgroup, pod_qos_class, qos_class


def pod(*resources: dict[str, Any], qos: str = "") -> Any:
    return manifest.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default", "uid": "1234-abcd"},
            "spec": {
                "containers": [
                    {"name": f"c{i}", "image": "busybox", "resources": r}
                    for i, r in enumerate(resources)
                ]
            },
            "status": {"qosClass": qos} if qos else {},
        }
    )


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ([{}], "BestEffort"),
        ([{"requests": {"cpu": "0"}}], "BestEffort"),  # a zero quantity is not set
        ([{"limits": {"example.com/gpu": "1"}}], "BestEffort"),  # only cpu and memory count
        ([{"requests": {"cpu": "100m"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}], "Guaranteed"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m"}}], "Guaranteed"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}, {}], "Burstable"),
    ],
)
def test_qos_class(resources: list[dict[str, Any]], expected: str) -> None:
    assert qos_class(pod(*resources).spec) == expected


def test_the_status_class_wins_over_the_spec() -> None:
    assert pod_qos_class(pod({}, qos="Burstable")) == "Burstable"
    assert pod_qos_class(pod({})) == "BestEffort"


@pytest.mark.parametrize(
    ("resources", "cgroup"),
    [
        ({"limits": {"cpu": "1", "memory": "1Gi"}}, "/kubepods/pod1234-abcd"),
        ({"requests": {"cpu": "100m"}}, "/kubepods/burstable/pod1234-abcd"),
        ({}, "/kubepods/besteffort/pod1234-abcd"),
    ],
)
def test_pod_cgroup_by_class(resources: dict[str, Any], cgroup: str) -> None:
    assert pod_cgroup(pod(resources)) == cgroup
