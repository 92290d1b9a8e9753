"""Server-side apply (a PATCH of type application/apply-patch+yaml; k8s.io/apiserver's
applyPatcher): the applied configuration is merged into the stored object by the field manager
(apiserver/registry/generic/managed_fields.py), which also records who owns what, and the result is
stored as an update of the object or of its status, with the update's rules. An apply to an
object that does not exist creates it (not through a subresource); one that loses a race to a
create is applied again, to what was created."""

from __future__ import annotations

from collections.abc import Callable

from apiserver import errors
from apiserver.objects import T, object_meta
from apiserver.registry.generic.options import ApplyOptions
from apiserver.registry.generic.store import Store
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.json_types import JSONObject

# A configuration made JSON into the kind's message (the door's decoding, its field validation).
Decode = Callable[[JSONObject], T]
# How often an apply that found no object and then lost the race to create it starts again.
_ATTEMPTS = 3


async def apply(
    store: Store[T],
    namespace: str,
    name: str,
    config: JSONObject,
    decode: Decode[T],
    options: ApplyOptions,
    *,
    subresource: str = "",
    cached: T | None = None,
) -> tuple[T, bool]:
    """The object as stored after the apply, and whether the apply created it."""
    store.check_subresource(subresource)
    recorder = store.managed_fields

    async def mutate(current: T) -> T:
        result, entries = recorder.applied(
            current, config, options.manager, options.force, subresource
        )
        request = decode(result)
        _set_entries(request, entries)
        return await store.updated(request, current, subresource, None, options.dry_run)

    for _ in range(_ATTEMPTS):
        try:
            stored = await store.guaranteed_update(
                namespace, name, mutate, cached=cached, dry_run=options.dry_run
            )
            return stored, False
        except errors.APIError as e:
            if e.reason != "NotFound" or subresource:
                raise
        cached = None
        result, entries = recorder.applied(None, config, options.manager, options.force)
        obj = decode(result)
        _set_entries(obj, entries)
        _check_new(store, obj, namespace, name)
        try:
            return await store.create(obj, dry_run=options.dry_run, manager=None), True
        except errors.APIError as e:
            if e.reason != "AlreadyExists":
                raise
    raise errors.conflict(store.resource, name)


def _set_entries(obj: T, entries: list[meta_pb2.ManagedFieldsEntry]) -> None:
    meta = object_meta(obj)
    meta.ClearField("managed_fields")
    meta.managed_fields.extend(entries)


def _check_new(store: Store[T], obj: T, namespace: str, name: str) -> None:
    """What an apply that creates must name: no uid (nothing exists to match it), the URL's
    name, and the URL's namespace."""
    meta = object_meta(obj)
    if meta.uid:
        raise errors.conflict(
            store.resource,
            name,
            f"uid mismatch: the provided object specified uid {meta.uid}, and no existing "
            "object was found",
        )
    if meta.name != name:
        raise errors.bad_request(
            f"the name of the object ({meta.name}) does not match the name on the URL ({name})"
        )
    if store.resource.namespaced:
        if meta.namespace and meta.namespace != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        meta.namespace = namespace
