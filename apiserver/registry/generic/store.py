"""The generic store: one kind's verbs in etcd (Kubernetes' registry/generic/registry.Store),
each over the part of this package that does it.

Objects are stored under /registry/<plural>/<namespace>/<name> (cluster-scoped kinds:
/registry/<plural>/<name>) without their resourceVersion, which is the key's etcd mod_revision:
the built-in kinds as protobuf, custom resources as JSON under /registry/<group>/<plural>/...
(their storage codec and prefix, apiserver/registry/customresource/)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from apiserver import errors
from apiserver.objects import ListMessage, T, object_meta
from apiserver.registry.generic import create, delete, guaranteed_update, listing, update
from apiserver.registry.generic.base import StoreBase
from apiserver.registry.generic.managed_fields import SERVER, Manager
from apiserver.registry.generic.options import (
    DEFAULT_DELETE,
    DEFAULT_LIST,
    DEFAULT_PATCH,
    DeleteOptions,
    ListOptions,
    PatchOptions,
)
from podplane.apimachinery import selectors


class Store(StoreBase[T]):
    """One kind's objects in etcd, typed by its message (Store[core_pb2.Pod], ...)."""

    # ------------------------------------------------------------------ reads
    async def get(self, namespace: str, name: str) -> T:
        kv, _ = await self.guard(self.etcd.get(self.key(namespace, name)))
        if kv is None:
            raise errors.not_found(self.resource, name)
        return await self.read(kv)

    async def list(self, namespace: str, options: ListOptions = DEFAULT_LIST) -> ListMessage[T]:
        """The objects the selectors match (listing.list_objects)."""
        return await listing.list_objects(self, namespace, options)

    def selectors(
        self, label_selector: str, field_selector: str
    ) -> tuple[selectors.LabelSelector, selectors.FieldSelector]:
        return listing.parse_selectors(self.strategy, label_selector, field_selector)

    # ------------------------------------------------------------------ writes
    async def create(self, obj: T, *, dry_run: bool = False, manager: Manager | None = SERVER) -> T:
        """Stores a new object (create.create); with `dry_run`, everything but the write."""
        return await create.create(self, obj, dry_run=dry_run, manager=manager)

    async def guaranteed_update(
        self,
        namespace: str,
        name: str,
        mutate: Callable[[T], Awaitable[T | None]],
        expected_rv: str = "",
        expected_uid: str = "",
        cached: T | None = None,
        dry_run: bool = False,
    ) -> T:
        """Reads, applies `mutate`, compare-and-swaps (guaranteed_update.guaranteed_update)."""
        return await guaranteed_update.guaranteed_update(
            self, namespace, name, mutate, expected_rv, expected_uid, cached, dry_run
        )

    async def updated(
        self,
        request: T,
        current: T,
        subresource: str = "",
        manager: Manager | None = SERVER,
        dry_run: bool = False,
    ) -> T:
        """What a write of `request` through `subresource` makes of `current` (update.updated),
        admitted as a dry run's or not."""
        return await update.updated(self, request, current, subresource, manager, dry_run)

    def writes_like_status(self, subresource: str) -> bool:
        return update.writes_like_status(self, subresource)

    def check_subresource(self, subresource: str) -> None:
        update.check_subresource(self, subresource)

    async def update(
        self,
        obj: T,
        cached: T | None = None,
        *,
        dry_run: bool = False,
        manager: Manager = SERVER,
    ) -> T:
        meta = object_meta(obj)

        async def mutate(current: T) -> T:
            return await update.object_updated(self, obj, current, manager, "", dry_run)

        return await self.guaranteed_update(
            self.namespace_of(obj),
            meta.name,
            mutate,
            expected_rv=meta.resource_version,
            cached=cached,
            dry_run=dry_run,
        )

    async def update_status(
        self,
        obj: T,
        cached: T | None = None,
        *,
        dry_run: bool = False,
        manager: Manager = SERVER,
        subresource: str = "status",
    ) -> T:
        meta = object_meta(obj)
        update.check_status(self, subresource)

        async def mutate(current: T) -> T:
            return await update.status_updated(self, obj, current, manager, subresource, dry_run)

        return await self.guaranteed_update(
            self.namespace_of(obj),
            meta.name,
            mutate,
            expected_rv=meta.resource_version,
            cached=cached,
            dry_run=dry_run,
        )

    async def patch(
        self,
        namespace: str,
        name: str,
        patched: Callable[[T], T],
        options: PatchOptions = DEFAULT_PATCH,
        *,
        subresource: str = "",
        cached: T | None = None,
    ) -> T:
        """Applies a patch: `patched` makes the object the patch asks for from the current one
        (on every retry, from the latest), which is then stored as an update of the object, or
        of its status or scale (`subresource` "status", "scale"), with the update's rules. A
        resourceVersion the patched object names is a precondition, as in an update."""
        self.check_subresource(subresource)
        manager = options.manager

        async def mutate(current: T) -> T:
            request = patched(current)
            return await self.updated(request, current, subresource, manager, options.dry_run)

        return await self.guaranteed_update(
            self.namespace_or_default(namespace),
            name,
            mutate,
            cached=cached,
            dry_run=options.dry_run,
        )

    async def delete(self, namespace: str, name: str, options: DeleteOptions = DEFAULT_DELETE) -> T:
        """Deletes the object, or marks it for deletion when a grace period or finalizers hold it;
        returns the object as it was last stored."""
        obj, _ = await self.delete_object(namespace, name, options)
        return obj

    async def delete_object(
        self,
        namespace: str,
        name: str,
        options: DeleteOptions = DEFAULT_DELETE,
        *,
        admit: bool = True,
    ) -> tuple[T, bool]:
        """delete(), and whether the object is gone (delete.delete_object; `admit` False: the
        caller admitted the request)."""
        return await delete.delete_object(self, namespace, name, options, admit=admit)
