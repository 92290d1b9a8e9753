"""The aggregated group/versions in the legacy discovery documents (kube-aggregator's
handler_apis.go): /apis lists every group with an APIService, /apis/<group> the group's versions,
the aggregated ones ordered as Kubernetes orders APIServices (SortedByGroupAndVersion: a group
by its highest groupPriorityMinimum, its versions by versionPriority, then Kubernetes' version
order). /apis/<group>/<version> itself is proxied to the backend, so its resources are the
backend's own list."""

from __future__ import annotations

from collections.abc import Iterable

from apiserver.aggregator.backends import Backend
from podplane.apimachinery.apiextensions.definitions import version_priority


def merged_group_versions(
    local: dict[str, list[str]], backends: Iterable[Backend]
) -> dict[str, list[str]]:
    """podplane's own groups (their order kept) with the backends' group/versions: a version
    of a group served here is added after its own, a group of backends only comes after the
    local ones, by priority."""
    out = {group: list(versions) for group, versions in local.items()}
    by_group: dict[str, list[Backend]] = {}
    for backend in backends:
        by_group.setdefault(backend.group, []).append(backend)
    ordered = sorted(
        by_group.items(),
        key=lambda item: (-max(b.group_priority_minimum for b in item[1]), item[0]),
    )
    for group, members in ordered:
        members.sort(key=lambda b: (-b.version_priority, version_priority(b.version)))
        versions = out.setdefault(group, [])
        versions.extend(b.version for b in members if b.version not in versions)
    return out
