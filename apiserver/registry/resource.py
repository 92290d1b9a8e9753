"""One resource's verbs as every front door calls them (k8s.io/apiserver/pkg/registry/rest's
Getter, Lister, Watcher, Creater, Updater, Patcher, GracefulDeleter, CollectionDeleter over the
generic store): the gRPC servicers and the REST handlers decode their request, call these, and
encode the answer, so a rule of the API lives here once, never in a door.

Reads follow Kubernetes' resourceVersion semantics: "" is the most recent state (read from etcd),
"0" any state (the watch cache), another version with resourceVersionMatch NotOlderThan (the
default) a state at least that recent (the watch cache once it has caught up) and with Exact that
very state (etcd at that revision)."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Generic

from apiserver import errors
from apiserver.objects import ListMessage, T, WatchMessage, object_meta
from apiserver.registry import apply as server_side_apply
from apiserver.registry.cacher import Cacher
from apiserver.registry.generic import deletion
from apiserver.registry.generic.codec import parse_resource_version
from apiserver.registry.generic.managed_fields import SERVER, Manager, check_options
from apiserver.registry.generic.options import (
    DEFAULT_DELETE,
    DEFAULT_LIST,
    DEFAULT_PATCH,
    DEFAULT_WATCH,
    EXACT,
    NOT_OLDER_THAN,
    ApplyOptions,
    DeleteOptions,
    ListOptions,
    PatchOptions,
    Preconditions,
    WatchOptions,
)
from apiserver.registry.generic.store import Store
from apiserver.registry.scale import Scaler
from apiserver.registry.uncached import Uncached
from apiserver.validation.fields import forbidden, required
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.resources import Resource
from podplane.printers.spec import TableSpec

# How long a NotOlderThan read waits for the watch cache to reach the version (Kubernetes: 3 s,
# then 504 "Too large resource version").
FRESHNESS_WAIT_SECONDS = 3.0


def _check_match(resource_version: str, match: str) -> None:
    """resourceVersionMatch's rules (apimachinery's validation of ListOptions)."""
    if not match:
        return
    if match not in (NOT_OLDER_THAN, EXACT):
        raise errors.bad_request(
            f'resourceVersionMatch: Unsupported value: "{match}": supported '
            f'values: "{EXACT}", "{NOT_OLDER_THAN}"'
        )
    if not resource_version:
        raise errors.bad_request(
            "resourceVersionMatch: Forbidden: resourceVersionMatch is "
            "forbidden unless resourceVersion is provided"
        )
    if match == EXACT and resource_version == "0":
        raise errors.bad_request(
            'resourceVersionMatch: Forbidden: resourceVersionMatch "Exact" '
            'is forbidden for resourceVersion "0"'
        )


class ResourceAPI(Generic[T]):
    """The verbs of one resource over its store and its reads (the watch cache, or etcd for a
    resource kept out of it)."""

    def __init__(
        self,
        store: Store[T],
        reads: Cacher[T] | Uncached[T],
        *,
        scaler: Scaler | None = None,
        table: TableSpec[T] | None = None,
        warnings: tuple[str, ...] = (),
        create_refusal: Callable[[], errors.APIError | None] | None = None,
    ) -> None:
        self.store = store
        self.reads = reads
        # The scale subresource, for the kinds that have one.
        self.scaler = scaler
        # The kind's table when it is not the printers' (a custom resource's printer columns).
        self.table = table
        # What every request to it is answered with (a deprecated custom resource version's).
        self.warnings = warnings
        # Why a create is refused now, if it is (a custom resource whose definition is being
        # deleted).
        self.create_refusal = create_refusal

    def unknown_fields(self, obj: T) -> list[str]:
        """Prunes a decoded object to its kind's schema (a custom resource's, a definition's
        schemas): the paths of the fields it dropped."""
        prune = self.store.strategy.prune
        return prune(obj) if prune is not None else []

    @property
    def resource(self) -> Resource[T]:
        return self.store.resource

    def namespace(self, namespace: str) -> str:
        """The namespace an object request names: "default" when none is given, "" for a
        cluster-scoped kind."""
        return (namespace or "default") if self.resource.namespaced else ""

    def cached(self, namespace: str, name: str) -> T | None:
        """The watch cache's copy of an object a write names: the write starts from it instead of
        reading etcd (see Store.guaranteed_update)."""
        if not name:
            return None
        return self.reads.peek(self.namespace(namespace), name)

    async def _fresh_enough(self, resource_version: str) -> bool:
        """Whether the watch cache is (or becomes, soon) at least as recent as the version."""
        if not isinstance(self.reads, Cacher):
            return False
        wanted = parse_resource_version(resource_version)
        cacher = self.reads
        await cacher.wait_ready()
        deadline = asyncio.get_running_loop().time() + FRESHNESS_WAIT_SECONDS
        while cacher.revision < wanted:
            if asyncio.get_running_loop().time() >= deadline:
                raise errors.timeout(
                    f"Too large resource version: {wanted}, current: {cacher.revision}"
                )
            await asyncio.sleep(0.05)
        return True

    # ------------------------------------------------------------------ reads
    async def get(self, namespace: str, name: str, resource_version: str = "") -> T:
        namespace = self.namespace(namespace)
        if resource_version == "0":
            return await self.reads.get(namespace, name)
        if resource_version and await self._fresh_enough(resource_version):
            return await self.reads.get(namespace, name)
        return await self.store.get(namespace, name)

    async def list(self, namespace: str, options: ListOptions = DEFAULT_LIST) -> ListMessage[T]:
        """An empty namespace lists every namespace (kubectl --all-namespaces)."""
        resource_version = options.resource_version
        if options.limit < 0:
            raise errors.bad_request("limit: Invalid value: must be >= 0")
        _check_match(resource_version, options.resource_version_match)
        if options.continue_ and resource_version and resource_version != "0":
            raise errors.bad_request(
                "resourceVersion: Forbidden: specifying resource version is "
                "not allowed when using continue"
            )
        exact = options.resource_version_match == EXACT
        if not options.continue_ and not exact:
            if resource_version == "0":
                return await self.reads.list(namespace, options)
            if resource_version and await self._fresh_enough(resource_version):
                return await self.reads.list(namespace, options)
        return await self.store.list(namespace, options)

    def watch_batches(
        self, namespace: str, options: WatchOptions = DEFAULT_WATCH, *, max_batch: int = 1
    ) -> AsyncIterator[builtins.list[WatchMessage[T]]]:
        """The watch's events in lists of up to `max_batch` (how many one message of the door's
        may carry)."""
        return self.reads.watch_batches(namespace, options, max_batch=max_batch)

    # ------------------------------------------------------------------ writes
    # Each write records its changes as its manager's in metadata.managedFields: the request's
    # fieldManager, else its user agent's first word (the server's own writes: kube-apiserver).
    async def create(self, obj: T, *, dry_run: bool = False, manager: Manager = SERVER) -> T:
        refusal = self.create_refusal() if self.create_refusal is not None else None
        if refusal is not None:
            raise refusal
        check_options("CreateOptions", manager.field_manager)
        return await self.store.create(obj, dry_run=dry_run, manager=manager)

    async def update(self, obj: T, *, dry_run: bool = False, manager: Manager = SERVER) -> T:
        check_options("UpdateOptions", manager.field_manager)
        meta = object_meta(obj)
        return await self.store.update(
            obj, cached=self.cached(meta.namespace, meta.name), dry_run=dry_run, manager=manager
        )

    async def update_status(
        self,
        obj: T,
        *,
        dry_run: bool = False,
        manager: Manager = SERVER,
        subresource: str = "status",
    ) -> T:
        """An update of the status, or of another subresource written like it (a
        CertificateSigningRequest's approval)."""
        check_options("UpdateOptions", manager.field_manager)
        meta = object_meta(obj)
        return await self.store.update_status(
            obj,
            cached=self.cached(meta.namespace, meta.name),
            dry_run=dry_run,
            manager=manager,
            subresource=subresource,
        )

    async def patch(
        self,
        namespace: str,
        name: str,
        patched: Callable[[T], T],
        options: PatchOptions = DEFAULT_PATCH,
        *,
        subresource: str = "",
    ) -> T:
        """A JSON, merge or strategic merge patch (`patched` makes the patched object of the
        stored one); `force` is an apply's option only."""
        check_options(
            "PatchOptions",
            options.manager.field_manager,
            [forbidden("force", "may not be specified for non-apply patch")]
            if options.force is not None
            else [],
        )
        return await self.store.patch(
            self.namespace(namespace),
            name,
            patched,
            options,
            subresource=subresource,
            cached=self.cached(namespace, name),
        )

    async def apply(
        self,
        namespace: str,
        name: str,
        config: JSONObject,
        decode: Callable[[JSONObject], T],
        options: ApplyOptions,
        *,
        subresource: str = "",
    ) -> tuple[T, bool]:
        """A server-side apply of `config` (`decode` makes the kind's message of the merged
        JSON, with the door's field validation): the object as stored and whether it was
        created. The manager must name itself (fieldManager)."""
        field_manager = options.manager.field_manager
        check_options(
            "PatchOptions",
            field_manager,
            [] if field_manager else [required("fieldManager", "is required for apply patch")],
        )
        return await server_side_apply.apply(
            self.store,
            self.namespace(namespace),
            name,
            config,
            decode,
            options,
            subresource=subresource,
            cached=self.cached(namespace, name),
        )

    async def delete(
        self,
        namespace: str,
        name: str,
        options: DeleteOptions = DEFAULT_DELETE,
        *,
        admit: bool = True,
    ) -> tuple[T, bool]:
        """The object as last stored, and whether it is gone (False: marked for deletion);
        `admit` False: the caller admitted the request (an eviction)."""
        return await self.store.delete_object(self.namespace(namespace), name, options, admit=admit)

    async def delete_collection(
        self,
        namespace: str,
        list_options: ListOptions = DEFAULT_LIST,
        options: DeleteOptions = DEFAULT_DELETE,
    ) -> ListMessage[T]:
        """Deletes every object the selectors of `list_options` match, each as its own delete
        with `options` (objects deleted meanwhile, and those the server keeps, are skipped);
        returns them as they were last stored."""
        listed = await self.store.list(namespace, list_options.selecting())
        deleted = self.store.strategy.new_list()
        for obj in listed.items:
            meta = object_meta(obj)
            if deletion.undeletable(self.resource, meta.name) is not None:
                continue
            try:
                deleted.items.append(
                    await self.store.delete(
                        meta.namespace if self.resource.namespaced else "",
                        meta.name,
                        # Only the object listed: one created meanwhile under its name is not.
                        replace(options, preconditions=Preconditions(uid=meta.uid)),
                    )
                )
            except errors.APIError as e:
                if e.reason not in ("NotFound", "Conflict"):  # gone, or replaced: not ours
                    raise
        deleted.metadata.resource_version = listed.metadata.resource_version
        return deleted
