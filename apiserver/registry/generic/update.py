"""An update's rules (Kubernetes' rest.BeforeUpdate): what a write of an object, of its status or
of another subresource makes of the stored object, admitted and validated. The update loop
(guaranteed_update.py) applies them to the latest stored object on every try."""

from __future__ import annotations

from collections.abc import Callable

from apiserver import errors
from apiserver.admission.attributes import for_update
from apiserver.objects import T, object_meta
from apiserver.registry.generic.base import StoreBase
from apiserver.registry.generic.codec import set_type
from apiserver.registry.generic.managed_fields import Manager
from apiserver.validation.fields import FieldError
from podplane.apimachinery.resources import Resource


async def updated(
    store: StoreBase[T],
    request: T,
    current: T,
    subresource: str,
    manager: Manager | None,
    dry_run: bool = False,
) -> T:
    """What a write of `request` through `subresource` ("", "status", "scale") makes of
    `current`, with the update's rules (admitted and validated); checks a name and a
    resourceVersion the request gives against `current`'s."""
    meta, old = object_meta(request), object_meta(current)
    if meta.name and meta.name != old.name:
        raise errors.bad_request(
            f"the name of the object ({meta.name}) does not match the name on the URL ({old.name})"
        )
    rv = meta.resource_version
    if rv and rv != old.resource_version:
        raise errors.conflict(store.resource, old.name)
    if writes_like_status(store, subresource):
        return await status_updated(store, request, current, manager, subresource, dry_run)
    return await object_updated(store, request, current, manager, subresource, dry_run)


async def object_updated(
    store: StoreBase[T],
    request: T,
    current: T,
    manager: Manager | None,
    subresource: str = "",
    dry_run: bool = False,
) -> T:
    """An update's result: the request's metadata and spec over `current`, admitted and
    validated."""
    new = merge_update(store, request, current, manager, subresource)
    await admitted_update(store, new, current, subresource, manager, dry_run)
    return new


async def admitted_update(
    store: StoreBase[T],
    new: T,
    current: T,
    subresource: str,
    manager: Manager | None,
    dry_run: bool,
    validate_update: Callable[[T, T], list[FieldError]] | None = None,
) -> None:
    """Kubernetes' order for an update (registry/generic/registry/store.go Update, on every try
    of GuaranteedUpdate): the merged object through mutating admission, then the strategy's
    validation, then validating admission."""
    attrs = for_update(
        store.resource,
        new,
        current,
        subresource=subresource,
        dry_run=dry_run,
        field_manager=manager.field_manager if manager is not None else "",
    )
    if store.admission is not None:
        await store.admission.admit(attrs)
    store.validate(new, current, validate_update)
    if store.admission is not None:
        await store.admission.validate(attrs)


def merge_update(
    store: StoreBase[T], request: T, current: T, manager: Manager | None, subresource: str = ""
) -> T:
    """The request's metadata (mutable parts) and spec over the stored object; the changes
    recorded as `manager`'s (None: the request's managed fields are final)."""
    strategy = store.strategy
    new = type(current)()
    new.CopyFrom(request)
    set_type(new, store.resource.api_version, store.resource.kind)
    meta, old = object_meta(new), object_meta(current)
    meta.name, meta.namespace, meta.uid = old.name, old.namespace, old.uid
    meta.creation_timestamp = old.creation_timestamp
    meta.generation = old.generation
    meta.deletion_timestamp = old.deletion_timestamp
    if old.HasField("deletion_grace_period_seconds"):
        meta.deletion_grace_period_seconds = old.deletion_grace_period_seconds
    else:
        meta.ClearField("deletion_grace_period_seconds")
    strategy.keep_status(new, current)  # only UpdateStatus (or the server) writes it
    # The request is defaulted as Kubernetes defaults it when decoding, before its changes are
    # recorded (a Secret's stringData is its data by then).
    strategy.default(new)
    if manager is not None:
        store.managed_fields.updated(new, current, manager, subresource)
    strategy.prepare_for_update(new, current)
    if store.allocator is not None:
        store.allocator.prepare(new, current)
    if strategy.generation_changed(new, current):
        meta.generation = old.generation + 1
    return new


async def status_updated(
    store: StoreBase[T],
    request: T,
    current: T,
    manager: Manager | None,
    subresource: str = "status",
    dry_run: bool = False,
) -> T:
    """A status update's result: the request's status over `current`, admitted and validated;
    or of another subresource written like status (the strategy's status_writes)."""
    strategy = store.strategy
    new = type(current)()
    new.CopyFrom(current)
    write = strategy.status_writes.get(subresource)
    (write.take if write else strategy.take_status)(new, request)
    if manager is not None:
        store.managed_fields.updated(new, current, manager, subresource)
    else:  # an apply's: the request's managed fields are final
        entries = object_meta(new).managed_fields
        del entries[:]
        entries.extend(object_meta(request).managed_fields)
    (write.prepare if write else strategy.prepare_for_status_update)(new, current)
    validate = write.validate if write else None
    await admitted_update(store, new, current, subresource, manager, dry_run, validate)
    return new


def writes_like_status(store: StoreBase[T], subresource: str) -> bool:
    """Whether a write through `subresource` is a status write: status, and the kind's other
    subresources written so (a CertificateSigningRequest's approval)."""
    return subresource == "status" or subresource in store.strategy.status_writes


def check_status(store: StoreBase[T], subresource: str = "status") -> None:
    """BadRequest unless the kind has `subresource` written like status."""
    resource = store.resource
    if subresource != "status" and subresource not in store.strategy.status_writes:
        raise errors.bad_request(f'{resource.plural} have no "{subresource}" to update')
    if not resource.has_status:
        raise errors.bad_request(f"{resource.plural} have no status subresource")


def check_subresource(store: StoreBase[T], subresource: str) -> None:
    """What a patch or an apply may write through: the object, its status (or another
    subresource written like it), its scale."""
    if writes_like_status(store, subresource):
        check_status(store, subresource)
    elif subresource and not (subresource == "scale" and _has_replicas(store.resource)):
        raise errors.bad_request(f'{store.resource.plural} have no "{subresource}" to patch')


def _has_replicas(resource: Resource) -> bool:
    if resource.custom:
        return True  # its definition's scale subresource decides (ResourceAPI.scaler)
    spec = resource.message.DESCRIPTOR.fields_by_name.get("spec")
    return spec is not None and "replicas" in spec.message_type.fields_by_name
