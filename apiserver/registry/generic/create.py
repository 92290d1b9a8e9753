"""A create: the object defaulted, admitted (mutating), named (generateName), validated, admitted
(validating) and stored, with the keys of the values it takes from a pool in the same transaction;
a dry run does all but the write."""

from __future__ import annotations

import secrets
from dataclasses import replace

from apiserver import errors
from apiserver.admission.attributes import for_create
from apiserver.objects import T, object_meta
from apiserver.registry.generic.base import StoreBase
from apiserver.registry.generic.claims import CLAIMS_CONTENDED, MAX_CLAIM_ATTEMPTS, Allocator
from apiserver.registry.generic.codec import set_type
from apiserver.registry.generic.managed_fields import Manager
from podplane.apimachinery import timeutil, uid

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' generateName alphabet
# How many names a generateName create tries before it answers AlreadyExists.
_NAME_ATTEMPTS = 8


def decoded_for_create(store: StoreBase[T], obj: T, manager: Manager | None) -> None:
    """What a create's object is before admission sees it, as Kubernetes' handler decodes it: in
    its namespace, typed, defaulted, its fields recorded as `manager`'s."""
    meta = object_meta(obj)
    if store.resource.namespaced:
        meta.namespace = meta.namespace or "default"
    set_type(obj, store.resource.api_version, store.resource.kind)
    store.strategy.default(obj)
    if manager is not None:
        store.managed_fields.created(obj, manager)


def prepare_for_create(store: StoreBase[T], obj: T) -> None:
    """The server's fields of a new object and the strategy's preparation (Kubernetes'
    rest.BeforeCreate, after mutating admission and before validation)."""
    meta = object_meta(obj)
    meta.uid = uid.new()
    meta.creation_timestamp = timeutil.now()
    meta.resource_version = ""
    meta.generation = 1
    meta.deletion_timestamp = ""
    meta.ClearField("deletion_grace_period_seconds")
    store.strategy.prepare_for_create(obj)
    if store.allocator is not None:
        store.allocator.prepare(obj, None)


async def create(store: StoreBase[T], obj: T, *, dry_run: bool, manager: Manager | None) -> T:
    """Stores a new object; with `dry_run`, everything but the write (the answer has no
    resourceVersion, as Kubernetes' dry run has none). Its managed fields are `manager`'s (None:
    they are set already, by an apply).

    In Kubernetes' order (endpoints/handlers/create.go, registry/generic/registry/store.go
    Create): mutating admission, the strategy's preparation and validation, validating
    admission, the write."""
    decoded_for_create(store, obj, manager)
    attrs = for_create(
        store.resource,
        obj,
        dry_run=dry_run,
        field_manager=manager.field_manager if manager is not None else "",
    )
    if store.admission is not None:
        await store.admission.admit(attrs)
    prepare_for_create(store, obj)
    meta = object_meta(obj)
    generated = not meta.name and meta.generate_name
    for attempt in range(_NAME_ATTEMPTS):
        if generated:
            meta.name = meta.generate_name + "".join(secrets.choice(_NAME_CHARS) for _ in range(5))
        store.validate(obj)
        store.strategy.canonicalize(obj)
        if attempt == 0 and store.admission is not None:
            # Named as generated (rest.AdmissionToValidateObjectFunc: "in case the generated
            # name is populated").
            named = attrs if attrs.name == meta.name else replace(attrs, name=meta.name)
            await store.admission.validate(named)
        key = store.key(meta.namespace, meta.name)
        if dry_run:
            if await _dry_run(store, key, obj):
                return obj
            rev = None
        elif store.allocator is not None:
            rev = await _create_claiming(store, key, obj, store.allocator)
        else:
            rev = await store.guard(store.etcd.create(key, await store.stored(obj)))
        if rev is not None:
            meta.resource_version = str(rev)
            return obj
        if not generated:
            break
    raise errors.already_exists(store.resource, meta.name)


async def _dry_run(store: StoreBase[T], key: bytes, obj: T) -> bool:
    """What a create would check without writing: whether the name is free; the pool's values
    and the size are checked as the write would (their errors raised)."""
    existing, _ = await store.guard(store.etcd.get(key))
    if store.allocator is not None:
        await store.guard(store.allocator.allocate(obj, None, dry_run=True))
    await store.stored(obj)  # the size check, and the conversion to the storage version
    return existing is None


async def _create_claiming(
    store: StoreBase[T], key: bytes, obj: T, allocator: Allocator[T]
) -> int | None:
    """Stores a new object with the keys of the values it takes, in one transaction: its
    revision, or None if the key exists (and nothing was claimed)."""
    requested = type(obj)()
    requested.CopyFrom(obj)
    for _ in range(MAX_CLAIM_ATTEMPTS):
        claims = await store.guard(allocator.allocate(obj, None, dry_run=False))
        result = await store.guard(
            store.etcd.write_claiming(key, await store.stored(obj), 0, claims.claim, claims.release)
        )
        if result.succeeded:
            return result.revision
        # Allocated again from the request: on another attempt, or for another generated name.
        allocated_name = object_meta(obj).name
        obj.CopyFrom(requested)
        object_meta(obj).name = allocated_name
        if result.current is not None:
            return None
    raise errors.conflict(store.resource, object_meta(obj).name, CLAIMS_CONTENDED)
