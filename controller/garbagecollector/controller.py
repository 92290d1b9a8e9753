"""The garbage collector (kubernetes pkg/controller/garbagecollector): deletes objects whose owners
are gone, and carries out the Orphan and Foreground deletion of owners.

Its graph is its informers' caches: every object of every kind (events aside, as
kube-controller-manager's ignoredResources leaves them), and of every custom resource an
established CustomResourceDefinition adds (an informer made when the definition is established,
dropped when it goes), indexed by its own uid and by the uids its ownerReferences name.
Handlers only enqueue keys; reconcile(key) acts on one object:

- an object with ownerReferences: an owner missing from the caches is looked up live, by name,
  and counts as gone only if it is not found or has another uid (the "absent owner cache"
  remembers those). If every owner is gone, or waiting for its dependents' foreground deletion,
  the object is deleted: in the foreground if an owner waits and the object has dependents of
  its own, else as its own finalizers say (Background by default). If some owners remain, only
  the references to the gone or waiting ones are removed.
- an owner deleted with propagationPolicy=Orphan (the apiserver gave it the `orphan` finalizer):
  the references to it are removed from its dependents, then the finalizer, upon which the
  apiserver deletes it.
- an owner deleted with propagationPolicy=Foreground (finalizer `foregroundDeletion`): its
  dependents are deleted; once none that blocks its deletion (blockOwnerDeletion) remains, the
  finalizer is removed."""

from __future__ import annotations

import enum
import logging
from collections import OrderedDict
from collections.abc import Callable

from google.protobuf.message import Message

from controller.framework.custom_resources import CustomResourceKinds
from controller.framework.reconciler import ReconcileLoop
from podplane.api.apiextensions.v1.custom_objects_pb2 import CustomObject
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import resources
from podplane.apimachinery.meta import object_meta
from podplane.apimachinery.resources import Resource
from podplane.client.clientset import Client, is_conflict, is_not_found
from podplane.client.conflicts import get_same, update_on_conflict
from podplane.client.informer import Informer, object_key
from podplane.client.informer_factory import SharedInformerFactory

log = logging.getLogger(__name__)

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
# The kinds whose objects are owners and dependents: every kind but events, which are many and
# own nothing (kube-controller-manager ignores them too).
IGNORED_KINDS = ("Event",)
TRACKED: tuple[Resource, ...] = tuple(r for r in resources.ALL if r.kind not in IGNORED_KINDS)
# What the informers hold: any kind's object, read through its metadata (object_meta).
Workload = Message
OWNER_UID_INDEX = "owner-uid"
UID_INDEX = "uid"
# Owners known to be gone (uids are never reused), as many as kube-controller-manager keeps.
ABSENT_OWNER_CACHE_SIZE = 500
# How soon a foreground deletion looks again while blocking dependents remain; their deletion
# events usually requeue it sooner.
RECHECK_SECONDS = 5.0
DEFAULT_WORKERS = 10


class Owner(enum.Enum):
    SOLID = "solid"  # exists and is not waiting for its dependents to go
    DANGLING = "dangling"  # gone, or replaced by another object of the same name
    WAITING = "waiting"  # being deleted in the foreground


def _waiting_for_dependents(obj: Message) -> bool:
    return (
        bool(object_meta(obj).deletion_timestamp)
        and FOREGROUND_FINALIZER in object_meta(obj).finalizers
    )


def _being_finalized(obj: Workload) -> bool:
    meta = object_meta(obj)
    if not meta.deletion_timestamp:
        return False
    finalizers = meta.finalizers
    return ORPHAN_FINALIZER in finalizers or FOREGROUND_FINALIZER in finalizers


def _owner_uids(obj: Workload) -> list[str]:
    refs = object_meta(obj).owner_references
    return [ref.uid for ref in refs] if refs else []


def _uid(obj: Workload) -> list[str]:
    return [object_meta(obj).uid]


class AbsentOwners:
    """A bounded set of the uids of owners verified to be gone (least recently used out)."""

    def __init__(self, size: int = ABSENT_OWNER_CACHE_SIZE) -> None:
        self._size = size
        self._uids: OrderedDict[str, None] = OrderedDict()

    def add(self, uid: str) -> None:
        self._uids[uid] = None
        self._uids.move_to_end(uid)
        while len(self._uids) > self._size:
            self._uids.popitem(last=False)

    def __contains__(self, uid: str) -> bool:
        if uid in self._uids:
            self._uids.move_to_end(uid)
            return True
        return False


class GarbageCollector:
    def __init__(
        self, client: Client, informers: SharedInformerFactory, *, workers: int = DEFAULT_WORKERS
    ) -> None:
        self.client = client
        self.factory = informers
        self.absent_owners = AbsentOwners()
        # By the key of each tracked resource: its plural, or a custom resource's
        # <plural>.<group>.
        self.informers: dict[str, tuple[Resource, Informer[Workload]]] = {}
        self.custom = CustomResourceKinds(informers)
        for resource in TRACKED:
            self._track(resource)
        self.loop = ReconcileLoop(
            "garbagecollector",
            self.reconcile,
            informers,
            [*(i for _, i in self.informers.values()), self.custom.definitions],
            workers=workers,
        )
        self.custom.on_change(self._sync_custom)

    def _track(self, resource: Resource) -> None:
        informer: Informer[Workload] = self.factory.informer_for(resource)
        informer.add_index(OWNER_UID_INDEX, _owner_uids)
        informer.add_index(UID_INDEX, _uid)
        informer.add_handler(
            on_add=self._on_add, on_update=self._on_update, on_delete=self._on_delete
        )
        self.informers[_tracking_key(resource)] = (resource, informer)

    def _sync_custom(self) -> None:
        """Follows the established custom resources: an informer for each new one (started
        at once when the factory runs), none for those gone."""
        wanted = {_tracking_key(r): r for r in self.custom.preferred()}
        for key, (resource, _) in list(self.informers.items()):
            if resource.custom and (key not in wanted or wanted[key] != resource):
                self.factory.forget(resource)
                del self.informers[key]
        added = False
        for key, resource in wanted.items():
            if key not in self.informers:
                log.info("garbage collector: following %s", key)
                self._track(resource)
                added = True
        if added and self.factory.started:
            self.factory.start()

    async def run(self) -> None:
        await self.loop.run()

    # ------------------------------------------------------------------ the graph
    def _key(self, obj: Workload) -> str:
        if isinstance(obj, CustomObject):
            group = obj.api_version.rpartition("/")[0]
            for key, (resource, _) in self.informers.items():
                if resource.custom and (resource.group, resource.kind) == (group, obj.kind):
                    return f"{key}/{object_key(obj)}"
        return f"{resources.by_message(obj).plural}/{object_key(obj)}"

    def _cached(self, key: str) -> tuple[Resource | None, Workload | None]:
        tracked, _, rest = key.partition("/")
        found = self.informers.get(tracked)
        if found is None:  # a custom resource no longer served
            return None, None
        resource, informer = found
        return resource, informer.get(rest)

    def dependents(self, uid: str) -> list[tuple[Resource, Workload]]:
        return [
            (r, o)
            for r, informer in self.informers.values()
            for o in informer.by_index(OWNER_UID_INDEX, uid)
        ]

    def _by_uid(self, uid: str) -> Workload | None:
        for _, informer in self.informers.values():
            for o in informer.by_index(UID_INDEX, uid):
                return o
        return None

    # ------------------------------------------------------------------ handlers: enqueue only
    def _enqueue(self, obj: Workload) -> None:
        self.loop.enqueue(self._key(obj))

    def _enqueue_finalizing_owners(self, uids: list[str]) -> None:
        """Owners waiting for their dependents look again when one changes or goes."""
        for uid in uids:
            owner = self._by_uid(uid)
            if owner is not None and _being_finalized(owner):
                self._enqueue(owner)

    def _on_add(self, obj: Workload) -> None:
        if object_meta(obj).owner_references or _being_finalized(obj):
            self._enqueue(obj)

    def _on_update(self, old: Workload, new: Workload) -> None:
        if _being_finalized(new):
            self._enqueue(new)
        old_refs, new_refs = object_meta(old).owner_references, object_meta(new).owner_references
        # Most objects have no owners before or after: not even compared then.
        if (old_refs or new_refs) and old_refs != new_refs:
            if new_refs:
                self._enqueue(new)
            self._enqueue_finalizing_owners(_owner_uids(old) + _owner_uids(new))

    def _on_delete(self, obj: Workload) -> None:
        for _, dependent in self.dependents(object_meta(obj).uid):
            self._enqueue(dependent)
        self._enqueue_finalizing_owners(_owner_uids(obj))

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, key: str) -> float | None:
        resource, obj = self._cached(key)
        if resource is None or obj is None:
            return None
        meta = object_meta(obj)
        if meta.deletion_timestamp:
            if ORPHAN_FINALIZER in meta.finalizers:
                await self._orphan_dependents(resource, obj)
            elif FOREGROUND_FINALIZER in meta.finalizers:
                return await self._delete_dependents(resource, obj)
            return None
        if meta.owner_references:
            await self._attempt_to_delete(resource, obj)
        return None

    async def _owner_state(self, ref: meta_pb2.OwnerReference, namespace: str) -> Owner:
        if ref.uid in self.absent_owners:
            return Owner.DANGLING
        cached = self._by_uid(ref.uid)
        if cached is not None:
            return Owner.WAITING if _waiting_for_dependents(cached) else Owner.SOLID
        # Not in the caches: gone, or too new for them. Only a live read can tell.
        try:
            resource = self._resource_of(ref.api_version, ref.kind)
        except KeyError:
            log.warning(
                "garbage collector: unknown owner kind %s %s; leaving its dependents",
                ref.api_version,
                ref.kind,
            )
            return Owner.SOLID
        try:
            live: Message | None = await self.client.for_resource(resource).get(
                ref.name, namespace if resource.namespaced else ""
            )
        except Exception as e:
            if not is_not_found(e):
                raise
            live = None
        if live is None or object_meta(live).uid != ref.uid:
            self.absent_owners.add(ref.uid)
            return Owner.DANGLING
        return Owner.WAITING if _waiting_for_dependents(live) else Owner.SOLID

    def _resource_of(self, api_version: str, kind: str) -> Resource:
        """The resource of an owner reference's kind, built-in or custom."""
        custom = self.custom.by_kind(api_version, kind)
        return custom if custom is not None else resources.by_kind(kind, api_version)

    async def _attempt_to_delete(self, resource: Resource, obj: Workload) -> None:
        meta = object_meta(obj)
        states = {
            ref.uid: await self._owner_state(ref, meta.namespace) for ref in meta.owner_references
        }
        gone = {uid for uid, s in states.items() if s is not Owner.SOLID}
        if not gone:
            return
        if len(gone) < len(states):
            # Some owners remain: only the references to the others go.
            log.info(
                "garbage collector: %s %s: removing references to owners %s",
                resource.kind,
                object_key(obj),
                sorted(gone),
            )
            await self._update(resource, obj, lambda o: _drop_owner_refs(o, gone))
            return
        live = await self._live(resource, obj)
        if (
            live is None
            or object_meta(live).deletion_timestamp
            or sorted(_owner_uids(live)) != sorted(_owner_uids(obj))
        ):
            return  # gone, going, or changed: its next event brings it back
        waiting = Owner.WAITING in states.values()
        if waiting and self.dependents(meta.uid):
            policy = "Foreground"
        elif ORPHAN_FINALIZER in object_meta(live).finalizers:
            policy = "Orphan"
        elif FOREGROUND_FINALIZER in object_meta(live).finalizers:
            policy = "Foreground"
        else:
            policy = "Background"
        log.info(
            "garbage collector: deleting %s %s (owners %s), propagation %s",
            resource.kind,
            object_key(obj),
            ", ".join(f"{u}: {s.value}" for u, s in states.items()),
            policy,
        )
        try:
            await self.client.for_resource(resource).delete(
                meta.name, meta.namespace, uid=meta.uid, propagation_policy=policy
            )
        except Exception as e:
            if not (is_not_found(e) or is_conflict(e)):
                raise

    async def _orphan_dependents(self, resource: Resource, owner: Workload) -> None:
        uid = object_meta(owner).uid
        dependents = self.dependents(uid)
        for dep_resource, dependent in dependents:
            await self._update(dep_resource, dependent, lambda o: _drop_owner_refs(o, {uid}))
        log.info(
            "garbage collector: %s %s: orphaned %d dependent(s)",
            resource.kind,
            object_key(owner),
            len(dependents),
        )
        await self._update(resource, owner, lambda o: _drop_finalizer(o, ORPHAN_FINALIZER))

    async def _delete_dependents(self, resource: Resource, owner: Workload) -> float | None:
        uid = object_meta(owner).uid
        dependents = self.dependents(uid)
        for _, dependent in dependents:
            if not object_meta(dependent).deletion_timestamp:
                self._enqueue(dependent)  # deleted by its own reconcile: its owner waits
        blocking = [
            d
            for _, d in dependents
            if any(
                r.uid == uid and r.HasField("block_owner_deletion") and r.block_owner_deletion
                for r in object_meta(d).owner_references
            )
        ]
        if blocking:
            return RECHECK_SECONDS
        log.info(
            "garbage collector: %s %s: dependents gone; finalizing",
            resource.kind,
            object_key(owner),
        )
        await self._update(resource, owner, lambda o: _drop_finalizer(o, FOREGROUND_FINALIZER))
        return None

    # ------------------------------------------------------------------ writes
    async def _live(self, resource: Resource, obj: Workload) -> Workload | None:
        """The object as stored now; None if it is gone or replaced by one of the same name."""
        return await get_same(self.client.for_resource(resource), obj)

    async def _update(
        self, resource: Resource, obj: Workload, change: Callable[[Workload], bool]
    ) -> None:
        """Applies `change` to a copy and updates with its resourceVersion; on a conflict, again
        against the object as now stored. `change` returns False when there is nothing to do."""
        api = self.client.for_resource(resource)
        await update_on_conflict(
            obj,
            change,
            api.update,
            lambda current: get_same(api, current),
            what=f"{resource.plural} {object_key(obj)}",
        )


def _tracking_key(resource: Resource) -> str:
    return f"{resource.plural}.{resource.group}" if resource.custom else resource.plural


def _drop_owner_refs(obj: Workload, uids: set[str]) -> bool:
    refs = object_meta(obj).owner_references
    keep = [r for r in refs if r.uid not in uids]
    if len(keep) == len(refs):
        return False
    del refs[:]
    refs.extend(keep)
    return True


def _drop_finalizer(obj: Workload, finalizer: str) -> bool:
    if finalizer not in object_meta(obj).finalizers:
        return False
    object_meta(obj).finalizers.remove(finalizer)
    return True
