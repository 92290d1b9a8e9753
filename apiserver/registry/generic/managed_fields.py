"""metadata.managedFields on every write of a kind, whichever door it came through: the store
calls `created` and `updated` on each create, update, status update and patch, before the
strategy prepares and validates the object, and `applied` for a server-side apply (see
podplane.apimachinery.fieldmanager for the rules, Kubernetes').

The manager is the request's fieldManager, or the first word of its user agent (`kubectl`,
`kube-controller-manager`), as Kubernetes names managers (managerOrUserAgent); the server's own
writes are "kube-apiserver"'s, as its loopback client's are in Kubernetes."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Generic

import grpc
from google.protobuf.message import Message

from apiserver import errors
from apiserver.objects import T, object_meta
from apiserver.registry.generic.create_keys import CreateKeys, Unencodable
from apiserver.validation import field_manager as validate_field_manager
from apiserver.validation.field_manager import MAX_FIELD_MANAGER_BYTES, is_print
from apiserver.validation.fields import FieldError, invalid_error
from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.fieldmanager import conflicts
from podplane.apimachinery.fieldmanager.conflicts import CAUSE_TYPE
from podplane.apimachinery.fieldmanager.creation import CreateRecorder
from podplane.apimachinery.fieldmanager.fieldpath import FieldSet, make_path
from podplane.apimachinery.fieldmanager.manager import BadRequest, FieldManager
from podplane.apimachinery.fieldmanager.proto_schema import message_type
from podplane.apimachinery.fieldmanager.schema import (
    MapType,
)
from podplane.apimachinery.fieldmanager.updater import Conflicts
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.resources import Resource


@functools.lru_cache(maxsize=256)
def user_agent_prefix(user_agent: str) -> str:
    """The manager a user agent names (prefixFromUserAgent): what comes before the first `/`,
    printable characters only, cut to 128 bytes: `kubectl/v1.36.4 (linux/amd64)` is kubectl."""
    out: list[str] = []
    size = 0
    for char in user_agent.split("/", 1)[0]:
        if not is_print(char):
            continue
        length = len(char.encode())
        if size + length > MAX_FIELD_MANAGER_BYTES:
            break
        out.append(char)
        size += length
    return "".join(out)


@dataclass(frozen=True)
class Manager:
    """Who writes: the request's fieldManager ("" when it gives none) and its user agent."""

    field_manager: str = ""
    user_agent: str = ""

    @property
    def name(self) -> str:
        return self.field_manager or user_agent_prefix(self.user_agent)


# The server's own writes (bootstrap roles, the kubernetes service, eviction's budget updates).
SERVER = Manager(user_agent="kube-apiserver")


def check_options(kind: str, field_manager: str, extra: list[FieldError] | None = None) -> None:
    """A write's options as Kubernetes validates them (ValidateCreateOptions, ...): a 422
    `CreateOptions.meta.k8s.io "" is invalid: fieldManager: ...`."""
    errs = (extra or []) + validate_field_manager.field_manager(field_manager)
    if errs:
        raise invalid_error(kind, "", errs, "meta.k8s.io")


def conflict_error(found: Conflicts) -> errors.APIError:
    """An apply's conflicts as Kubernetes answers them: 409 Conflict, a FieldManagerConflict
    cause per field (errors.NewApplyConflict)."""
    message, causes = conflicts.report(found)
    return errors.APIError(
        grpc.StatusCode.ABORTED,
        "Conflict",
        message,
        errors.Details(causes=tuple(errors.Cause(CAUSE_TYPE, c.message, c.field) for c in causes)),
    )


class _Alike:
    """Stands for a field two objects have alike: equal only to itself."""

    def __repr__(self) -> str:
        return "<alike>"


_ALIKE = _Alike()


def _encode_bare(obj: Message) -> tuple[JSONObject, meta_pb2.ObjectMeta]:
    """The object's JSON without its managedFields, and those entries (held in an ObjectMeta of
    their own). The object is left as it was."""
    meta = object_meta(obj)
    held = meta_pb2.ObjectMeta()
    if not meta.managed_fields:
        return codec.encode(obj), held
    held.managed_fields.extend(meta.managed_fields)
    meta.ClearField("managed_fields")
    try:
        return codec.encode(obj), held
    finally:
        meta.managed_fields.extend(held.managed_fields)


def _set_entries(obj: Message, entries: list[meta_pb2.ManagedFieldsEntry]) -> None:
    meta = object_meta(obj)
    meta.ClearField("managed_fields")
    meta.managed_fields.extend(entries)


class ManagedFields(Generic[T]):
    """One kind's bookkeeping. The main resource's writes never own `status`, which only its
    status subresource writes, and that subresource's writes never own `spec` (the strategies'
    reset fields)."""

    def __init__(
        self,
        resource: Resource,
        schema: MapType | None = None,
        *,
        status: bool = False,
        served: frozenset[str] = frozenset(),
    ) -> None:
        """`schema` is the objects' type when their message does not say it (a custom
        resource's, of its version's schema), `status` whether they have a status
        subresource then, and `served` the other API versions the same objects are served in
        (a custom resource's), whose managers are kept."""
        message = resource.message
        descriptor = message.DESCRIPTOR
        with_status = "status" in descriptor.fields_by_name if schema is None else status
        # What each write resets (the strategies' GetResetFields): the main resource's keep the
        # status, the status subresource's the spec.
        reset = (
            {"": FieldSet.of(make_path("status")), "status": FieldSet.of(make_path("spec"))}
            if with_status
            else {}
        )
        self.resource = resource
        # The top-level message fields (metadata, spec, status).
        self._messages = [
            f for f in descriptor.fields if f.message_type is not None and not f.is_repeated
        ]
        self.manager = FieldManager(
            message_type(descriptor) if schema is None else schema,
            resource.api_version,
            resource.kind,
            codec.encode(message()),
            reset,
            served=served,
        )
        self._keys = CreateKeys(descriptor, self._messages, self.manager)
        self._creates = CreateRecorder(self.manager)

    def created(self, obj: T, manager: Manager) -> None:
        """Records a create: the fields the new object sets are its manager's."""
        if not object_meta(obj).managed_fields:
            self._created_afresh(obj, manager)
            return
        try:
            new, requested = _encode_bare(obj)
        except ValueError:
            # A field the gRPC door took as JSON text that is not JSON (a RawExtension): not
            # the field manager's to refuse (validation does); it records nothing, as
            # Kubernetes' UpdateNoErrors when its field manager fails.
            _set_entries(obj, [])
            return
        entries = self.manager.update(None, new, (), requested.managed_fields, manager.name)
        _set_entries(obj, entries)

    def _created_afresh(self, obj: T, manager: Manager) -> None:
        """`created` for a request without managedFields (nearly every create): the entry the
        general path records, made a top-level field at a time (fieldmanager/creation.py),
        each memoised field named by a key (create_keys.py), so that a part seen before is not
        walked; an object whose every field has a key, by its signature, whole."""
        keys = self._keys
        signature = keys.signature(obj)
        if signature is None:
            entries = self._walked(obj, manager)
        else:  # an object all of whose parts have keys: its whole text remembered by them
            entries = self._creates.signed_entries(
                signature, manager.name, lambda: self._walked(obj, manager)
            )
        _set_entries(obj, entries)

    def _walked(self, obj: T, manager: Manager) -> list[meta_pb2.ManagedFieldsEntry]:
        """The create's entries a top-level field at a time, the parts seen before remembered."""
        keys = self._keys
        try:
            top = keys.top(obj)
        except ValueError:  # as in `created`: nothing is recorded
            return []
        try:
            return self._creates.entries(top, manager.name, keys.encoder(obj))
        except Unencodable:  # a keyed field's value, encoded on a miss: the same
            return []

    def updated(self, new: T, current: T, manager: Manager, subresource: str = "") -> None:
        """Records an update (through `subresource`) that makes `new` of `current`."""
        new_meta, live_meta = object_meta(new), object_meta(current)
        requested, live = meta_pb2.ObjectMeta(), meta_pb2.ObjectMeta()
        requested.managed_fields.extend(new_meta.managed_fields)
        live.managed_fields.extend(live_meta.managed_fields)
        new_meta.ClearField("managed_fields")
        live_meta.ClearField("managed_fields")
        try:
            # A top-level field both have alike (a status update's spec and metadata) is one
            # placeholder on both sides: the comparison skips it, and it is not encoded.
            alike: dict[int, object] = {
                f.number: _ALIKE
                for f in self._messages
                if getattr(new, f.name) == getattr(current, f.name)
                and new.HasField(f.name) == current.HasField(f.name)
            }
            new_json = codec.encode_substituting(new, alike)
            live_json = codec.encode_substituting(current, alike)
        except ValueError:  # as in `created`: the object's entries are kept
            _set_entries(new, list(live.managed_fields))
            return
        finally:
            live_meta.managed_fields.extend(live.managed_fields)
        entries = self.manager.update(
            live_json,
            new_json,
            live.managed_fields,
            requested.managed_fields,
            manager.name,
            subresource,
        )
        _set_entries(new, entries)

    def applied(
        self,
        current: T | None,
        config: JSONObject,
        manager: Manager,
        force: bool,
        subresource: str = "",
    ) -> tuple[JSONObject, list[meta_pb2.ManagedFieldsEntry]]:
        """The JSON an applied configuration makes of `current` (None: a create), and the
        object's managed fields after it; a 400 for a configuration that is not this kind's, a
        409 for conflicts."""
        live_json, live = _encode_bare(current) if current is not None else (None, None)
        try:
            return self.manager.apply(
                live_json,
                live.managed_fields if live is not None else (),
                config,
                manager.name,
                force=force,
                subresource=subresource,
            )
        except BadRequest as e:
            raise errors.bad_request(str(e)) from None
        except Conflicts as found:
            raise conflict_error(found) from None
