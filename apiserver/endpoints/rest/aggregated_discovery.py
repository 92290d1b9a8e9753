"""Aggregated discovery at /api and /apis (podplane/apimachinery/apidiscovery.py), for a client
whose Accept header asks for apidiscovery.k8s.io/v2 or v2beta1 first: /api lists the core
group, /apis every named group: the built-in ones (ordered by Kubernetes' table of APIService
priorities, apiregistration.k8s.io first), the custom resources' (1000 and 100, as their
APIServices) and the aggregated APIs' (their APIServices' own priorities). Each version's
resources are its legacy resource list converted, so the two kinds of discovery never differ.
Answered with an ETag, and 304 Not Modified to a client that sends it back."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from apiserver.endpoints.rest import discovery
from apiserver.endpoints.rest.responses import dumps
from apiserver.registry.served import ServedResources
from podplane.apimachinery import apidiscovery, apiservices, resources
from podplane.apimachinery.apidiscovery import Source, VersionEntry
from podplane.apimachinery.resources import CreateOnlyResource, Resource

APIREGISTRATION = "apiregistration.k8s.io"


_LISTED: list[Resource | CreateOnlyResource] = list(resources.SERVED)
# The built-in kinds' group/versions: fixed for the process, so not worked out per request.
BUILT_IN = frozenset((discovery.group_of(r), discovery.version_of(r)) for r in _LISTED)


def local_entries(served: ServedResources, core: bool) -> list[VersionEntry]:
    """The core group's version (`core`) or every named group's versions served here."""
    out: list[VersionEntry] = []
    for group, versions in discovery.group_versions(served).items():
        if (group == "") != core:
            continue
        for version in versions:
            listed = discovery.api_resource_list(served, group, version)
            if listed is None:
                continue
            found = apidiscovery.version_discovery(
                version,
                apidiscovery.resources_of(listed["resources"]),
                apidiscovery.CURRENT,
            )
            if (group, version) not in BUILT_IN:
                priorities = apiservices.CUSTOM_RESOURCE_PRIORITIES
                out.append(VersionEntry(group, found, Source.CRD, *priorities))
                continue
            if group == APIREGISTRATION:
                priorities = (apidiscovery.APIREGISTRATION_PRIORITY, 0)
            else:
                priorities = apiservices.PRIORITIES.get(
                    (group, version), apidiscovery.DEFAULT_PRIORITIES
                )
            out.append(VersionEntry(group, found, Source.BUILTIN, *priorities))
    return out


def answer(
    request: web.Request,
    served: ServedResources,
    version: str,
    core: bool,
    aggregated: Iterable[VersionEntry] = (),
) -> web.Response:
    """The document in apidiscovery.k8s.io/`version` (ServeHTTPWithETag)."""
    entries = local_entries(served, core)
    items = apidiscovery.merged(entries if core else [*entries, *aggregated])
    etag = apidiscovery.etag(items)
    headers = {"ETag": etag, "Vary": "Accept", "Cache-Control": "public"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = apidiscovery.media_type(version)
    return web.Response(body=dumps(apidiscovery.document(items, version)), headers=headers)
