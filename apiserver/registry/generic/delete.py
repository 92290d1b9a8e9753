"""A delete: the object removed, or marked for deletion when a grace period or finalizers hold
it (deletion.py decides which), with the keys it held in a pool released in the same
transaction."""

from __future__ import annotations

from apiserver import errors
from apiserver.admission.attributes import for_delete
from apiserver.objects import T, object_meta
from apiserver.registry.generic import deletion
from apiserver.registry.generic.base import StoreBase
from apiserver.registry.generic.codec import parse_resource_version
from apiserver.registry.generic.guaranteed_update import checked
from apiserver.registry.generic.options import DeleteOptions


async def delete_object(
    store: StoreBase[T], namespace: str, name: str, options: DeleteOptions, *, admit: bool = True
) -> tuple[T, bool]:
    """Deletes the object, or marks it for deletion: the object as it was last stored, and
    whether it is gone (False: marked for deletion, or already being deleted). `admit` False:
    the caller admitted its own request already (an eviction, a CREATE of pods/eviction, whose
    delete Kubernetes runs with rest.ValidateAllObjectFunc)."""
    resource = store.resource
    deletion.check_request(resource, name, options.propagation_policy)
    key = store.key(namespace, name)
    want_rv = parse_resource_version(
        options.preconditions.resource_version, "preconditions.resourceVersion"
    )
    kv, _ = await store.guard(store.etcd.get(key))
    while True:
        current = await checked(store, kv, name, options.preconditions.uid, want_rv)
        assert kv is not None  # else checked() raised NotFound
        if admit and store.admission is not None:
            await _admit_delete(store, current, options)
        decision = deletion.decide(
            resource, current, options.grace_period_seconds, options.propagation_policy
        )
        if options.dry_run:
            if decision.delete_now:
                return current, True
            return (current if decision.marked is None else decision.marked), False
        if decision.delete_now and store.allocator is not None:
            ok, latest, rev, _ = await store.write_claiming(
                key, None, kv, store.allocator.release(current)
            )
        elif decision.delete_now:
            ok, latest, rev = await store.guard(store.etcd.compare_and_delete(key, kv.mod_revision))
        elif decision.marked is None:
            return current, False  # already being deleted
        else:
            ok, latest, rev = await store.guard(
                store.etcd.compare_and_put(
                    key, await store.stored(decision.marked), kv.mod_revision
                )
            )
            current = decision.marked
        if ok:
            object_meta(current).resource_version = str(rev)
            return current, decision.delete_now
        if want_rv:
            raise errors.conflict(resource, name)
        kv = latest


async def _admit_delete(store: StoreBase[T], current: T, options: DeleteOptions) -> None:
    """Both phases with the stored object as the old object (Kubernetes' store.Delete runs its
    deleteValidation, the handler's admission of DELETE, so): a mutating plugin sees the delete
    too, but has no object to change."""
    assert store.admission is not None
    attrs = for_delete(
        store.resource,
        current,
        dry_run=options.dry_run,
        propagation_policy=options.propagation_policy,
        grace_period_seconds=options.grace_period_seconds,
    )
    await store.admission.admit(attrs)
    await store.admission.validate(attrs)
