"""NamespaceLifecycle (kubernetes plugin/pkg/admission/namespace/lifecycle): nothing is created in a
namespace that does not exist or is being deleted."""
from __future__ import annotations

import time
from typing import Any

from apiserver import errors
from apiserver.registry.cacher import Cacher
from apiserver.registry.store import Store
from podplane.apimachinery import resources


# How long after a namespace's deletion was admitted its cached copy is not trusted to be current
# (kubernetes forceLiveLookupTTL).
FORCE_LIVE_LOOKUP_SECONDS = 30.0


def _terminating(ns: Any) -> bool:
    return bool(ns.metadata.deletion_timestamp or ns.status.phase == "Terminating")


class NamespaceLifecycle:
    """Checks creates (called with the object and its namespace); as a write admission plugin,
    notes the namespaces whose deletion it admits."""

    def __init__(self, namespaces: Store, cache: Cacher | None = None) -> None:
        self._namespaces = namespaces
        self._cache = cache
        # Namespace -> until when a cached copy that is not terminating is read again from etcd:
        # the watch cache may not show a deletion just admitted yet.
        self._force_live_lookup: dict[str, float] = {}

    async def admit_create(self, obj: Any) -> None:
        pass

    def admit_update(self, subresource: str, new: Any, old: Any) -> None:
        pass

    def admit_delete(self, old: Any) -> None:
        if resources.by_message(old) is resources.NAMESPACE:
            now = time.monotonic()
            self._force_live_lookup = {name: until for name, until
                                       in self._force_live_lookup.items() if until > now}
            self._force_live_lookup[old.metadata.name] = now + FORCE_LIVE_LOOKUP_SECONDS

    async def _lookup(self, name: str) -> Any | None:
        if self._cache is not None and self._cache.ready.is_set():
            cached = self._cache.objects.get(self._namespaces.key("", name))
            if cached is not None and (_terminating(cached) or self._force_live_lookup.get(
                    name, 0.0) <= time.monotonic()):
                return cached
        # Not cached (yet): a namespace created a moment ago may not have reached the cache; or
        # its deletion was admitted a moment ago and the cache may not show it yet.
        try:
            return await self._namespaces.get("", name)
        except errors.APIError as e:
            if e.reason == "NotFound":
                return None
            raise

    async def __call__(self, obj: Any, namespace: str) -> None:
        ns = await self._lookup(namespace)
        if ns is None:
            raise errors.not_found(resources.NAMESPACE, namespace)
        # Events about what is being torn down are still wanted.
        if _terminating(ns) and obj.kind != resources.EVENT.kind:
            resource = resources.by_message(obj)
            raise errors.forbidden(resource, obj.metadata.name or obj.metadata.generate_name,
                                   f"unable to create new content in namespace {namespace} "
                                   f"because it is being terminated")
