"""The three definition controllers, fed by the definitions' watch cache (a CacheObserver of it):
naming (naming.py), establishing (establishing_controller.go: once its names are accepted, a
definition is Established, "InitialNamesAccepted"), and the cleanup finalizer (crd_finalizer.go:
a definition being deleted is Terminating, "InstanceDeletionInProgress", while its objects are
deleted through their own store, then "InstanceDeletionCompleted", and its finalizer goes, upon
which the store removes it). Status writes are compare-and-swaps of the cached definition: a
conflict means a newer one is on its way, and brings the name back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from apiserver import errors
from apiserver.registry.apiextensions import naming
from apiserver.registry.apiextensions.loop import DefinitionLoop
from apiserver.registry.cacher import Cacher
from apiserver.registry.generic.options import DeleteOptions, ListOptions
from apiserver.registry.generic.store import Store
from apiserver.registry.served import ServedResources
from podplane.apimachinery.apiextensions import definitions
from podplane.apimachinery.apiextensions.definitions import CRD

log = logging.getLogger(__name__)

# How soon the finalizer looks again while objects remain (held by their own finalizers).
INSTANCE_RECHECK_SECONDS = 1.0


class DefinitionControllers:
    def __init__(self, cache: Cacher[CRD], store: Store[CRD], served: ServedResources) -> None:
        self.cache = cache
        self.store = store
        self.served = served
        self.naming = DefinitionLoop("crd_naming_condition_controller", self.reconcile_names)
        self.establishing = DefinitionLoop("crdEstablishing", self.reconcile_established)
        self.finalizer = DefinitionLoop("crd_finalizer", self.reconcile_finalizer, workers=2)
        # The groups of the definitions seen, to look at a group again when one goes.
        self._groups: dict[str, str] = {}
        # The definitions this apiserver last wrote, until the cache shows them (the naming
        # controller's mutation cache: a tight loop sees its own accepted names).
        self._written: dict[str, CRD] = {}

    # ------------------------------------------------------------------ CacheObserver
    def changed(self, prev: CRD | None, obj: CRD | None) -> None:
        if obj is not None:
            name = obj.metadata.name
            self._groups[name] = obj.spec.group
            for loop in (self.naming, self.establishing, self.finalizer):
                loop.enqueue(name)
        elif prev is not None:
            name = prev.metadata.name
            self._written.pop(name, None)
            self._groups.pop(name, None)
            self._requeue_group(prev.spec.group, name)  # its names are free

    def replaced(self, objects: Iterable[CRD]) -> None:
        for crd in objects:
            self.changed(None, crd)

    def _requeue_group(self, group: str, except_name: str) -> None:
        for name, g in list(self._groups.items()):
            if g == group and name != except_name:
                self.naming.enqueue(name)

    async def run(self) -> None:
        await asyncio.gather(self.naming.run(), self.establishing.run(), self.finalizer.run())

    # ------------------------------------------------------------------ reads and writes
    def _cached(self, name: str) -> CRD | None:
        cached = self.cache.peek("", name)
        written = self._written.get(name)
        if written is not None and cached is not None:
            newer = int(written.metadata.resource_version or 0) > int(
                cached.metadata.resource_version or 0
            )
            if newer:
                return written
            del self._written[name]
        return cached

    def _group(self, group: str) -> list[CRD]:
        out = []
        for crd in list(self.cache.objects.values()):
            if crd.spec.group == group:
                out.append(self._cached(crd.metadata.name) or crd)
        return out

    async def _write(self, crd: CRD, change: Callable[[CRD], CRD]) -> CRD | None:
        """Writes the change over the definition as cached; None when it was deleted or changed
        meanwhile (its next event brings it back)."""

        async def mutate(current: CRD) -> CRD:
            return change(current)

        try:
            written = await self.store.guaranteed_update(
                "",
                crd.metadata.name,
                mutate,
                expected_rv=crd.metadata.resource_version,
                expected_uid=crd.metadata.uid,
            )
        except errors.APIError as e:
            if e.reason in ("NotFound", "Conflict"):
                return None
            raise
        self._written[crd.metadata.name] = written
        return written

    # ------------------------------------------------------------------ naming
    async def reconcile_names(self, name: str) -> float | None:
        crd = self._cached(name)
        if crd is None:
            return None
        change = naming.renamed(crd, self._group(crd.spec.group))
        if change is None:
            return None
        if await self._write(crd, change) is not None:
            self._requeue_group(crd.spec.group, name)
        return None

    # ------------------------------------------------------------------ establishing
    async def reconcile_established(self, name: str) -> float | None:
        crd = self._cached(name)
        if crd is None or not definitions.is_true(crd, definitions.NAMES_ACCEPTED):
            return None
        if definitions.is_true(crd, definitions.ESTABLISHED):
            return None

        def establish(stored: CRD) -> CRD:
            out = CRD()
            out.CopyFrom(stored)
            definitions.set_condition(
                out,
                definitions.ESTABLISHED,
                "True",
                "InitialNamesAccepted",
                "the initial names have been accepted",
            )
            return out

        await self._write(crd, establish)
        return None

    # ------------------------------------------------------------------ finalizer
    async def reconcile_finalizer(self, name: str) -> float | None:
        crd = self._cached(name)
        if crd is None or not crd.metadata.deletion_timestamp:
            return None
        if definitions.CLEANUP_FINALIZER not in crd.metadata.finalizers:
            return None
        in_progress = (
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
        )
        current = definitions.condition(crd, definitions.TERMINATING)
        if current is None or (current.reason, current.message) != in_progress:
            written = await self._write(crd, _terminating("True", *in_progress))
            if written is None:
                return None
            crd = written
        if definitions.is_true(crd, definitions.ESTABLISHED):
            remaining = await self._delete_instances(name)
            if remaining:
                log.info("%s: waiting for %d custom objects to be removed", name, remaining)
                return INSTANCE_RECHECK_SECONDS
            done = ("False", "InstanceDeletionCompleted", "removed all instances")
        else:
            done = ("False", "NeverEstablished", "resource was never established")
        await self._write(crd, _finalized(*done))
        return None

    async def _delete_instances(self, name: str) -> int:
        """Deletes every object of the definition (each namespace's as one delete collection);
        returns how many remain (held by their own finalizers)."""
        versions = self.served.of_definition(name)
        if not versions:
            return 0
        api = versions[0].api
        listed = await api.store.list("", ListOptions())
        namespaces = sorted({o.metadata.namespace for o in listed.items})
        for namespace in namespaces:
            await api.delete_collection(namespace, ListOptions(), DeleteOptions())
        left = await api.store.list("", ListOptions())
        return len(left.items)


def _terminating(status: str, reason: str, message: str) -> Callable[[CRD], CRD]:
    def change(stored: CRD) -> CRD:
        out = CRD()
        out.CopyFrom(stored)
        definitions.set_condition(out, definitions.TERMINATING, status, reason, message)
        return out

    return change


def _finalized(status: str, reason: str, message: str) -> Callable[[CRD], CRD]:
    def change(stored: CRD) -> CRD:
        out = _terminating(status, reason, message)(stored)
        if definitions.CLEANUP_FINALIZER in out.metadata.finalizers:
            out.metadata.finalizers.remove(definitions.CLEANUP_FINALIZER)
        return out

    return change
