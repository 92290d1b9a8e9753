"""The aggregated group/versions in /apis (handler_apis.go's order): a group of backends only
after the local groups, the groups by their highest groupPriorityMinimum, a group's versions by
versionPriority then Kubernetes' version order; a version added to a local group follows its
own."""

from __future__ import annotations

from apiserver.aggregator.backends import Backend
from apiserver.aggregator.discovery import merged_group_versions


def backend(group: str, version: str, group_priority: int, version_priority: int) -> Backend:
    return Backend(
        f"{version}.{group}", group, version, "ns", "svc", 443, b"", False, True,
        group_priority, version_priority,
    )  # fmt: skip


def test_backends_groups_follow_the_local_ones_by_priority() -> None:
    local = {"": ["v1"], "apps": ["v1"]}
    merged = merged_group_versions(
        local,
        [
            backend("metrics.k8s.io", "v1beta1", 100, 100),
            backend("wardle.example.com", "v1alpha1", 1000, 15),
            backend("wardle.example.com", "v1beta1", 1000, 15),
            backend("wardle.example.com", "v2", 900, 20),
            backend("apps", "v2alpha1", 17800, 1),
        ],
    )
    assert merged == {
        "": ["v1"],
        "apps": ["v1", "v2alpha1"],
        "wardle.example.com": ["v2", "v1beta1", "v1alpha1"],
        "metrics.k8s.io": ["v1beta1"],
    }
    assert local == {"": ["v1"], "apps": ["v1"]}  # the local lists are not changed
