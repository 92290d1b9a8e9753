"""The aggregated APIs in aggregated discovery (kube-aggregator's discoveryManager, Kubernetes
1.31): for each APIService that names a Service, its server's `/apis` is asked for in
apidiscovery.k8s.io/v2 (or v2beta1), as system:kube-aggregator in system:masters, with the
ETag it last gave (a 304 keeps what it said); a server that answers otherwise is asked for the
legacy `/apis/<group>/<version>` instead, as system:aggregator, its resource list converted.
The APIService's group/version is then listed with what its server said of it (no resources
when it said nothing), `Current`; when its server could not be asked (it is not Available, it
failed, it timed out after 5 s) it is listed `Stale` with no resources, which clients report as
`stale GroupVersion discovery`. Several APIServices of one Service share one download.

Asked again when an APIService appears or changes (its availability included), and every
minute; an APIService that goes leaves the document."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from apiserver.aggregator.backends import Backend, Backends
from apiserver.aggregator.transport import Answer, Transport
from apiserver.registry.apiextensions.loop import DefinitionLoop
from apiserver.webhook.errors import ResolveError
from podplane.apimachinery import apidiscovery
from podplane.apimachinery.apidiscovery import Source, VersionEntry
from podplane.apimachinery.json_types import JSONObject

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 5.0  # http.TimeoutHandler(info.handler, 5*time.Second, ...)
REFRESH_SECONDS = 60.0  # every non-local APIService marked dirty each minute
AGGREGATOR_USER = "system:kube-aggregator"
AGGREGATOR_GROUPS = ("system:masters",)
LEGACY_USER = "system:aggregator"
ACCEPT = ",".join(apidiscovery.media_type(v) for v in apidiscovery.VERSIONS)

# GET of a path at a backend as a user in groups, with headers.
Fetch = Callable[[Backend, str, str, tuple[str, ...], list[tuple[str, str]]], Awaitable[Answer]]


class DownloadFailed(Exception):
    """The server's discovery could not be read."""


def transport_fetch(transport: Transport) -> Fetch:
    async def fetch(
        backend: Backend,
        path: str,
        user: str,
        groups: tuple[str, ...],
        headers: list[tuple[str, str]],
    ) -> Answer:
        return await transport.get(
            backend, path, user, DOWNLOAD_TIMEOUT, groups=groups, headers=headers
        )

    return fetch


def is_aggregated(content_type: str) -> bool:
    """Whether a Content-Type is the aggregated list's (ContentTypeIsGVK, in any order)."""
    media, *params = [p.strip() for p in content_type.split(";")]
    values = dict(p.partition("=")[::2] for p in params)
    return (
        media.lower() == "application/json"
        and values.get("g") == apidiscovery.GROUP
        and values.get("as") == apidiscovery.KIND
        and values.get("v") in apidiscovery.VERSIONS
    )


@dataclass
class _Downloaded:
    """What one Service's server said, by (group, version), and when it was asked."""

    versions: dict[tuple[str, str], JSONObject]
    etag: str = ""
    at: float = field(default_factory=time.monotonic)


def _service_key(backend: Backend) -> tuple[str, str, int]:
    return backend.namespace, backend.service, backend.port


def _parsed_list(body: bytes) -> dict[tuple[str, str], JSONObject]:
    try:
        parsed = json.loads(body)
        out: dict[tuple[str, str], JSONObject] = {}
        for group in parsed.get("items") or []:
            name = (group.get("metadata") or {}).get("name", "")
            for version in group.get("versions") or []:
                out[(name, version["version"])] = version
        return out
    except (ValueError, AttributeError, KeyError, TypeError) as e:
        raise DownloadFailed(f"decoding the discovery document: {e}") from e


class AggregatedDiscovery:
    """The aggregated group/versions' entries, by APIService; fed by the backends' changes."""

    def __init__(self, backends: Backends, fetch: Fetch) -> None:
        self.backends = backends
        self.fetch = fetch
        self._entries: dict[str, VersionEntry] = {}
        self._downloaded: dict[tuple[str, str, int], _Downloaded] = {}
        self._dirty: dict[str, float] = {}  # APIService -> when it was last marked dirty
        self.loop = DefinitionLoop("DiscoveryManager", self.reconcile, workers=2)
        backends.subscribe(self._changed)

    def _changed(self, before: Backend | None, after: Backend | None) -> None:
        current = after or before
        if current is not None:
            self._mark_dirty(current.name)

    def _mark_dirty(self, name: str) -> None:
        self._dirty[name] = time.monotonic()
        self.loop.enqueue(name)

    def entries(self) -> list[VersionEntry]:
        return list(self._entries.values())

    async def run(self) -> None:
        for backend in self.backends.all():
            self._mark_dirty(backend.name)
        await asyncio.gather(self.loop.run(), self._refresh())

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for backend in self.backends.all():
                self._mark_dirty(backend.name)

    async def reconcile(self, name: str) -> float | None:
        """syncAPIService: the APIService's entry, Current or Stale."""
        backend = self.backends.named(name)
        if backend is None:
            self._entries.pop(name, None)
            self._dirty.pop(name, None)
            self._forget_unused()
            return None
        key = (backend.group, backend.version)
        try:
            said = (await self._fresh(backend)).get(key)
            discovery = dict(said) if said is not None else {"version": backend.version}
            discovery["freshness"] = apidiscovery.CURRENT
        except (DownloadFailed, aiohttp.ClientError, TimeoutError, OSError, ResolveError) as e:
            log.info("DiscoveryManager: discovery of %s failed: %s", name, e)
            discovery = apidiscovery.version_discovery(backend.version, [], apidiscovery.STALE)
        self._entries[name] = VersionEntry(
            backend.group,
            discovery,
            Source.AGGREGATOR,
            backend.group_priority_minimum,
            backend.version_priority,
        )
        return None

    def _forget_unused(self) -> None:
        used = {_service_key(b) for b in self.backends.all()}
        for key in self._downloaded.keys() - used:
            del self._downloaded[key]

    async def _fresh(self, backend: Backend) -> dict[tuple[str, str], JSONObject]:
        """fetchFreshDiscoveryForService: the Service's discovery, downloaded since the
        APIService was marked dirty."""
        key = _service_key(backend)
        cached = self._downloaded.get(key)
        if cached is not None and cached.at > self._dirty.get(backend.name, 0.0):
            return cached.versions
        headers = [("Accept", ACCEPT)]
        if cached is not None and cached.etag:
            headers.append(("If-None-Match", cached.etag))
        now = time.monotonic()
        answer = await self.fetch(backend, "/apis", AGGREGATOR_USER, AGGREGATOR_GROUPS, headers)
        if answer.status == 304 and cached is not None:
            self._downloaded[key] = _Downloaded(cached.versions, cached.etag, now)
            return cached.versions
        if answer.status == 200 and is_aggregated(answer.content_type):
            versions = _parsed_list(answer.body)
            self._downloaded[key] = _Downloaded(versions, answer.etag, now)
            return versions
        return await self._legacy(backend)

    async def _legacy(self, backend: Backend) -> dict[tuple[str, str], JSONObject]:
        """The fallback: the group/version's resource list, converted (not kept: it says
        nothing of the Service's other group/versions)."""
        path = f"/apis/{backend.group}/{backend.version}"
        answer = await self.fetch(backend, path, LEGACY_USER, (), [("Accept", "application/json")])
        if answer.status != 200:
            text = answer.body.decode("utf-8", "replace")
            raise DownloadFailed(f"failed to download legacy discovery for {path}: {text}")
        try:
            listed = json.loads(answer.body).get("resources") or []
            resources = apidiscovery.resources_of(listed)
        except (ValueError, AttributeError, TypeError) as e:
            raise DownloadFailed(f"decoding {path}: {e}") from e
        return {
            (backend.group, backend.version): apidiscovery.version_discovery(
                backend.version, resources
            )
        }
