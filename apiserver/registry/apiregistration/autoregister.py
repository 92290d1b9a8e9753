"""The autoregister loop (kube-aggregator's autoregister_controller.go, fed as kubernetes'
crdregistration_controller.go feeds it): every built-in group/version this apiserver serves has
its local APIService, labelled `kube-aggregator.kubernetes.io/automanaged: onstart`, its spec set
once at start; every served version of a CustomResourceDefinition has one labelled `true`, kept
while the definition serves it and deleted when it no longer does. An APIService without the
label is a user's and left alone. One difference from Kubernetes, where an `onstart` APIService
deleted while the server runs comes back only at its next start: here it is created again at
once. Fed by the APIServices' and the definitions' watch caches; writes go through the store with
the cached object's resourceVersion or uid, so several apiservers converge."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Protocol, TypeVar

from apiserver import errors
from apiserver.registry.apiextensions.loop import DefinitionLoop
from apiserver.registry.generic.options import DeleteOptions, Preconditions
from podplane.apimachinery import apiservices
from podplane.apimachinery.apiextensions.definitions import CRD
from podplane.apimachinery.apiservices import APIService

log = logging.getLogger(__name__)

Cached_co = TypeVar("Cached_co", covariant=True)


class Cached(Protocol[Cached_co]):
    """What the loop reads of a watch cache (a Cacher)."""

    @property
    def objects(self) -> Mapping[bytes, Cached_co]: ...

    def peek(self, namespace: str, name: str) -> Cached_co | None: ...


class Writes(Protocol):
    """What the loop writes through (the APIServices' Store)."""

    async def create(self, obj: APIService) -> APIService: ...

    async def update(self, obj: APIService) -> APIService: ...

    async def delete(self, namespace: str, name: str, options: DeleteOptions) -> APIService: ...


# The races that are no error: the cache shows the change soon, and brings the name back.
_RACES = ("AlreadyExists", "Conflict", "NotFound")


def _managed(obj: APIService | None) -> str:
    return obj.metadata.labels.get(apiservices.AUTOMANAGED_LABEL, "") if obj else ""


class AutoRegister:
    """A CacheObserver of the APIServices' cache (each change enqueues its name)."""

    def __init__(self, cache: Cached[APIService], store: Writes, definitions: Cached[CRD]) -> None:
        self.cache = cache
        self.store = store
        self.definitions = definitions
        self.loop = DefinitionLoop("autoregister", self.reconcile)
        self.built_in = apiservices.built_in()
        self.custom: dict[str, APIService] = {}
        # The names reconciled once without error, and those stored when the loop started.
        self._synced: set[str] = set()
        self._at_start: set[str] = set()

    # ------------------------------------------------------------------ CacheObserver
    def changed(self, prev: APIService | None, obj: APIService | None) -> None:
        current = obj or prev
        if current is not None:
            self.loop.enqueue(current.metadata.name)

    def replaced(self, objects: Iterable[APIService]) -> None:
        for obj in objects:
            self.loop.enqueue(obj.metadata.name)

    def definitions_changed(self) -> None:
        """What the definitions serve now (crdregistration): a name whose APIService should
        appear, go or change is looked at again."""
        wanted = apiservices.of_definitions(list(self.definitions.objects.values()))
        before, self.custom = self.custom, wanted
        for name in before.keys() | wanted.keys():
            if before.get(name) != wanted.get(name):
                self.loop.enqueue(name)

    def start(self) -> set[str]:
        """What the loop starts from, once the caches are ready: the APIServices stored then,
        what the definitions serve; returns the names to look at first (every one of them)."""
        self._at_start = {o.metadata.name for o in list(self.cache.objects.values())}
        self.custom = apiservices.of_definitions(list(self.definitions.objects.values()))
        return self.built_in.keys() | self.custom.keys() | self._at_start

    async def run(self) -> None:
        """Runs once the caches are ready (the server starts it after they are)."""
        for name in self.start():
            self.loop.enqueue(name)
        await self.loop.run()

    def desired(self, name: str) -> APIService | None:
        return self.custom.get(name) or self.built_in.get(name)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, name: str) -> float | None:
        """checkAPIService; the name counts as synced once it passed without error."""
        try:
            await self._converge(name)
        except errors.APIError as e:
            if e.reason not in _RACES:
                raise
        self._synced.add(name)
        return None

    async def _converge(self, name: str) -> None:
        desired = self.desired(name)
        current = self.cache.peek("", name)
        synced = name in self._synced
        if current is None:
            if desired is not None:  # (2B, 2C) and, unlike Kubernetes, a deleted onstart one
                created = APIService()
                created.CopyFrom(desired)
                await self.store.create(created)
            return
        onstart = apiservices.MANAGE_ON_START
        if _managed(desired) == onstart and synced:
            return  # its spec is set once, at start (5B, 6B)
        managed = _managed(current)
        if managed not in (onstart, apiservices.MANAGE_CONTINUOUSLY):
            return  # a user's (3A, 3B, 3C)
        if managed == onstart and (name not in self._at_start or synced):
            return  # (4A, 4B, 4C; 5A, 5B, 5C once)
        if desired is None:  # a definition's version no longer served, or gone (5A, 6A)
            preconditions = Preconditions(uid=current.metadata.uid)
            await self.store.delete("", name, DeleteOptions(preconditions=preconditions))
            log.info("autoregister: deleted APIService %s", name)
            return
        if current.spec == desired.spec:
            return
        updated = APIService()
        updated.CopyFrom(current)
        updated.spec.CopyFrom(desired.spec)
        await self.store.update(updated)


class DefinitionsFeed:
    """A CacheObserver of the definitions' cache for the autoregister loop."""

    def __init__(self, autoregister: AutoRegister) -> None:
        self.autoregister = autoregister

    def changed(self, prev: CRD | None, obj: CRD | None) -> None:
        self.autoregister.definitions_changed()

    def replaced(self, objects: Iterable[CRD]) -> None:
        self.autoregister.definitions_changed()
