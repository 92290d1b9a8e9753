"""A parent's ControllerRevisions through the API (kubernetes pkg/controller/history Interface,
realHistory, and controller_ref_manager.go ClaimControllerRevisions): listed from the shared
informer's cache, created under a collision-free name, renumbered, deleted, adopted, released,
claimed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from controller.framework.controller_ref import controller_of, new_controller_ref
from controller.framework.objects import Object
from controller.history.revision import (
    controller_revision_name,
    hash_controller_revision,
    same_data,
)
from podplane.api.apps.v1 import apps_pb2
from podplane.apimachinery.resources import Resource
from podplane.apimachinery.selectors import LabelSelector
from podplane.client.clientset import (
    ResourceClient,
    is_already_exists,
    is_conflict,
    is_not_found,
)
from podplane.client.conflicts import get_same, update_on_conflict
from podplane.client.informer import NAMESPACE_INDEX, Informer, namespace_of

log = logging.getLogger(__name__)

Revision = apps_pb2.ControllerRevision
# Names tried before a creation gives up (the collision count grows by one at each).
MAX_CREATE_ATTEMPTS = 16


class CreateRetriesExhausted(RuntimeError):
    """Every name tried was another revision's."""


def _key(obj: Object) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


class History:
    """The revisions of the parents of one controller: `api` writes them, `revisions` (the
    process's shared informer) lists them. Revisions returned from the cache are shared: copy one
    before changing it."""

    def __init__(self, api: ResourceClient[Revision], revisions: Informer[Revision]) -> None:
        self.api = api
        self.revisions = revisions
        revisions.add_index(NAMESPACE_INDEX, namespace_of)

    def list_revisions(self, parent: Object, selector: LabelSelector) -> list[Revision]:
        """ListControllerRevisions: the revisions of the parent's namespace the selector matches
        that the parent controls or no one does."""
        uid = parent.metadata.uid
        out: list[Revision] = []
        for r in self.revisions.by_index(NAMESPACE_INDEX, parent.metadata.namespace):
            if not selector.matches(r.metadata.labels):
                continue
            ref = controller_of(r)
            if ref is None or ref.uid == uid:
                out.append(r)
        return out

    async def create_revision(
        self, parent: Object, revision: Revision, collision_count: int
    ) -> tuple[Revision, int]:
        """CreateControllerRevision: creates `revision` named <parent>-<hash of its data and the
        collision count>. A name held by a revision with the same data is that revision; one
        held by other data is a collision: the count grows by one and the next name is tried.
        Returns the revision and the collision count it ends with (to be stored in the parent's
        status)."""
        for _ in range(MAX_CREATE_ATTEMPTS):
            candidate = Revision()
            candidate.CopyFrom(revision)
            candidate.metadata.namespace = parent.metadata.namespace
            candidate.metadata.name = controller_revision_name(
                parent.metadata.name, hash_controller_revision(revision, collision_count)
            )
            try:
                return await self.api.create(candidate), collision_count
            except Exception as e:
                if not is_already_exists(e):
                    raise
            existing = await self.api.get(candidate.metadata.name, parent.metadata.namespace)
            if same_data(existing.data, candidate.data):
                return existing, collision_count
            log.info(
                "revision %s of %s holds other data: collision count %d",
                candidate.metadata.name,
                _key(parent),
                collision_count + 1,
            )
            collision_count += 1
        raise CreateRetriesExhausted(
            f"no free revision name for {_key(parent)} after {MAX_CREATE_ATTEMPTS} collisions"
        )

    async def update_revision(self, revision: Revision, new_revision: int) -> Revision:
        """UpdateControllerRevision: the revision renumbered, retried on a conflict against
        the revision as stored then."""

        def renumber(r: Revision) -> bool:
            if r.revision == new_revision:
                return False
            r.revision = new_revision
            return True

        updated = await update_on_conflict(
            revision, renumber, self.api.update, self._refetch, what=f"revision {_key(revision)}"
        )
        if updated is None:
            raise LookupError(f"revision {_key(revision)} is gone")
        return updated

    async def delete_revision(self, revision: Revision) -> None:
        """DeleteControllerRevision; one already gone (or replaced by a namesake) is no error."""
        meta = revision.metadata
        try:
            await self.api.delete(meta.name, meta.namespace, uid=meta.uid)
        except Exception as e:
            if not (is_not_found(e) or is_conflict(e)):
                raise

    async def adopt_revision(
        self, parent: Object, parent_resource: Resource, revision: Revision
    ) -> Revision | None:
        """AdoptControllerRevision: the parent becomes the controller of an orphan; None when
        it is gone or another controller took it first."""

        def add_reference(r: Revision) -> bool:
            if controller_of(r) is not None:
                return False
            r.metadata.owner_references.append(new_controller_ref(parent, parent_resource))
            return True

        adopted = await update_on_conflict(
            revision,
            add_reference,
            self.api.update,
            self._refetch,
            what=f"adopting {_key(revision)}",
        )
        ref = controller_of(adopted) if adopted is not None else None
        if ref is None or ref.uid != parent.metadata.uid:
            return None
        log.info("%s adopted revision %s", _key(parent), adopted.metadata.name if adopted else "")
        return adopted

    async def release_revision(self, parent: Object, revision: Revision) -> Revision | None:
        """ReleaseControllerRevision: the parent's reference removed; None when it is gone."""
        uid = parent.metadata.uid

        def drop_reference(r: Revision) -> bool:
            keep = [ref for ref in r.metadata.owner_references if ref.uid != uid]
            if len(keep) == len(r.metadata.owner_references):
                return False
            del r.metadata.owner_references[:]
            r.metadata.owner_references.extend(keep)
            return True

        released = await update_on_conflict(
            revision,
            drop_reference,
            self.api.update,
            self._refetch,
            what=f"releasing {_key(revision)}",
        )
        if released is not None:
            log.info("%s released revision %s", _key(parent), released.metadata.name)
        return released

    async def claim_revisions(
        self,
        parent: Object,
        parent_resource: Resource,
        selector: LabelSelector,
        fresh_parent: Callable[[], Awaitable[Object]],
    ) -> list[Revision]:
        """ClaimControllerRevisions over the parent's namespace: keeps the revisions it controls
        that the selector matches, adopts matching orphans (unless the parent, read live once
        before the first adoption, is gone or being deleted) and releases its own that no longer
        match."""
        uid = parent.metadata.uid
        deleting = bool(parent.metadata.deletion_timestamp)
        claimed: list[Revision] = []
        may_adopt: bool | None = None
        candidates: Iterable[Revision] = self.revisions.by_index(
            NAMESPACE_INDEX, parent.metadata.namespace
        )
        for r in candidates:
            ref = controller_of(r)
            matches = not selector.empty and selector.matches(r.metadata.labels)
            if ref is not None:
                if ref.uid != uid:
                    continue
                if matches:
                    claimed.append(r)
                elif not deleting:
                    await self.release_revision(parent, r)
                continue
            if deleting or not matches or r.metadata.deletion_timestamp:
                continue
            if may_adopt is None:
                may_adopt = await _may_adopt(parent, fresh_parent)
            if may_adopt and (adopted := await self.adopt_revision(parent, parent_resource, r)):
                claimed.append(adopted)
        return claimed

    async def _refetch(self, revision: Revision) -> Revision | None:
        return await get_same(self.api, revision)


async def _may_adopt(parent: Object, fresh_parent: Callable[[], Awaitable[Object]]) -> bool:
    """A parent that is gone, replaced or being deleted adopts nothing (#42639)."""
    try:
        fresh = await fresh_parent()
    except Exception as e:
        if is_not_found(e):
            return False
        raise
    return bool(fresh.metadata.uid == parent.metadata.uid and not fresh.metadata.deletion_timestamp)
