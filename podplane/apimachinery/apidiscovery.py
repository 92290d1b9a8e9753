"""Aggregated discovery, apidiscovery.k8s.io/v2 (k8s.io/api/apidiscovery/v2 and the apiserver's
discovery/aggregated resource manager, Kubernetes 1.31): every group's versions with their
resources in one document, what client-go (so kubectl) asks for first at /api and /apis.

A version's entry is built from its legacy APIResourceList as ConvertGroupVersionIntoToDiscovery
builds it (a subresource goes under its parent); the entries of all sources are merged as the
resource manager merges them: an aggregated API server's group/version wins over a built-in one,
a built-in over a custom resource's; groups are ordered by their highest groupPriorityMinimum,
then by name; a group's versions by versionPriority, then in Kubernetes' version order. A
version whose server could not be asked is listed `Stale`: client-go reports it as
`stale GroupVersion discovery: <group>/<version>`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum

from podplane.apimachinery.apiextensions.definitions import version_priority
from podplane.apimachinery.json_types import JSONObject

GROUP = "apidiscovery.k8s.io"
KIND = "APIGroupDiscoveryList"
# The versions of the list a client may ask for; Kubernetes 1.31 still serves v2beta1.
VERSIONS = ("v2", "v2beta1")

CURRENT = "Current"
STALE = "Stale"

# What a group/version gets when nothing sets its priorities (addGroupVersionLocked).
DEFAULT_PRIORITIES = (1000, 15)
# apiregistration.k8s.io, the aggregator's own group, always listed first.
APIREGISTRATION_PRIORITY = 20001


class Source(IntEnum):
    """Where a group/version comes from: of two sources serving one, the lower wins."""

    AGGREGATOR = 0
    BUILTIN = 100
    CRD = 200


@dataclass(frozen=True)
class VersionEntry:
    """One group/version of the document: its APIVersionDiscovery (`version`, `resources`,
    `freshness`) and how it is ordered."""

    group: str
    discovery: JSONObject
    source: Source
    group_priority: int = DEFAULT_PRIORITIES[0]
    version_priority: int = DEFAULT_PRIORITIES[1]

    @property
    def version(self) -> str:
        return str(self.discovery["version"])


def media_type(version: str) -> str:
    """The Content-Type of the list (generateMediaTypeWithGVK: g, v, then as)."""
    return f"application/json;g={GROUP};v={version};as={KIND}"


def _response_kind(entry: Mapping[str, object]) -> JSONObject:
    return {
        "group": str(entry.get("group") or ""),
        "version": str(entry.get("version") or ""),
        "kind": str(entry.get("kind") or ""),
    }


def resources_of(api_resources: Iterable[Mapping[str, object]]) -> list[JSONObject]:
    """An APIResourceList's resources as APIResourceDiscovery (ConvertGroupVersionIntoToDiscovery):
    each top-level resource with its scope, kind, verbs, short names, categories and singular
    name; each `<resource>/<sub>` as a subresource of its parent (an empty parent made for one
    whose parent is not listed). ValueError when a subresource's scope differs from its
    parent's."""
    listed = list(api_resources)
    out: list[JSONObject] = []
    parents: dict[str, JSONObject] = {}
    for r in listed:
        name = str(r.get("name", ""))
        if "/" in name:
            continue
        entry: JSONObject = {
            "resource": name,
            "responseKind": _response_kind(r),
            "scope": "Namespaced" if r.get("namespaced") else "Cluster",
            "singularResource": str(r.get("singularName") or ""),
            "verbs": list(r.get("verbs") or []),  # type: ignore[call-overload]
        }
        for legacy, field in (("shortNames", "shortNames"), ("categories", "categories")):
            if r.get(legacy):
                entry[field] = list(r[legacy])  # type: ignore[call-overload]
        out.append(entry)
        parents[name] = entry
    for r in listed:
        parent_name, slash, sub = str(r.get("name", "")).partition("/")
        if not slash:
            continue
        scope = "Namespaced" if r.get("namespaced") else "Cluster"
        parent = parents.get(parent_name)
        if parent is None:
            parent = {
                "resource": parent_name,
                "responseKind": _response_kind({}),
                "scope": scope,
                "singularResource": "",
                "verbs": [],
            }
            out.append(parent)
            parents[parent_name] = parent
        if parent["scope"] != scope:
            raise ValueError(
                f"Error: Parent {parent_name} (scope: {parent['scope']}) and subresource "
                f"{sub} (scope: {scope}) scope do not match"
            )
        subresources = parent.setdefault("subresources", [])
        assert isinstance(subresources, list)
        subresources.append(
            {
                "subresource": sub,
                "responseKind": _response_kind(r) if r.get("kind") else _response_kind({}),
                "verbs": list(r.get("verbs") or []),  # type: ignore[call-overload]
            }
        )
    return out


def version_discovery(
    version: str, resources: list[JSONObject], freshness: str | None = None
) -> JSONObject:
    """An APIVersionDiscovery (`resources` and `freshness` left out when empty, as Go omits
    them)."""
    out: JSONObject = {"version": version}
    if resources:
        out["resources"] = resources
    if freshness:
        out["freshness"] = freshness
    return out


def merged(entries: Iterable[VersionEntry]) -> list[JSONObject]:
    """The groups of the document (calculateAPIGroupsLocked), each an APIGroupDiscovery."""
    chosen: dict[tuple[str, str], VersionEntry] = {}
    for e in entries:
        key = (e.group, e.version)
        if key not in chosen or e.source < chosen[key].source:
            chosen[key] = e
    by_group: dict[str, list[VersionEntry]] = {}
    for e in chosen.values():
        by_group.setdefault(e.group, []).append(e)
    ordered = sorted(
        by_group.items(), key=lambda item: (-max(e.group_priority for e in item[1]), item[0])
    )
    items: list[JSONObject] = []
    for group, versions in ordered:
        versions.sort(key=lambda e: (-e.version_priority, version_priority(e.version)))
        metadata: JSONObject = {"name": group} if group else {}
        metadata["creationTimestamp"] = None
        items.append({"metadata": metadata, "versions": [e.discovery for e in versions]})
    return items


def document(items: list[JSONObject], version: str) -> JSONObject:
    """The APIGroupDiscoveryList of `items`, in apidiscovery.k8s.io/`version`."""
    return {"kind": KIND, "apiVersion": f"{GROUP}/{version}", "metadata": {}, "items": items}


def etag(items: list[JSONObject]) -> str:
    """The document's ETag, quoted (calculateETag: a SHA-512 of its JSON, in hex capitals)."""
    digest = hashlib.sha512(json.dumps(items, separators=(",", ":")).encode()).hexdigest()
    return f'"{digest.upper()}"'
