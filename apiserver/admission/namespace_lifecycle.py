"""NamespaceLifecycle (kubernetes plugin/pkg/admission/namespace/lifecycle): nothing is created in a
namespace that does not exist or is being deleted."""
from __future__ import annotations

from typing import Any

from apiserver import errors
from apiserver.registry.cacher import Cacher
from apiserver.registry.store import Store
from podplane import resources


class NamespaceLifecycle:
    def __init__(self, namespaces: Store, cache: Cacher | None = None) -> None:
        self._namespaces = namespaces
        self._cache = cache

    async def _lookup(self, name: str) -> Any | None:
        if self._cache is not None and self._cache.ready.is_set():
            cached = self._cache.objects.get(self._namespaces.key("", name))
            if cached is not None:
                return cached
        # Not cached (yet): a namespace created a moment ago may not have reached the cache.
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
        terminating = ns.metadata.deletion_timestamp or ns.status.phase == "Terminating"
        # Events about what is being torn down are still wanted.
        if terminating and obj.kind != resources.EVENT.kind:
            resource = resources.by_message(obj)
            raise errors.forbidden(resource, obj.metadata.name or obj.metadata.generate_name,
                                   f"unable to create new content in namespace {namespace} "
                                   f"because it is being terminated")
