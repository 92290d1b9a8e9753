"""What differs between kinds: defaults, validation, what a create or update may change, and the
fields a field selector can match (kubernetes pkg/registry/<group>/<kind>/strategy.go)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic

from google.protobuf.message import Message

from apiserver.objects import ListMessage, T, WatchMessage, object_meta
from apiserver.validation.fields import FieldError
from podplane.apimachinery.resources import Resource


def meta_fields(obj: Message) -> dict[str, str]:
    meta = object_meta(obj)
    return {"metadata.name": meta.name, "metadata.namespace": meta.namespace}


def no_defaults(obj: Message) -> None:
    return None


def _status_as_written(new: Message, old: Message) -> None:
    return None


def _nothing_to_prepare(new: Message, old: Message) -> None:
    return None


def copy_status(dst: Message, src: Message) -> None:
    """The status of `src` into `dst`, for a kind whose message has one (a field of its own),
    absent when it is absent: an update that changes nothing encodes to the stored bytes."""
    if "status" not in dst.DESCRIPTOR.fields_by_name:
        return
    if src.HasField("status"):
        target: Any = dst  # a kind with a status field: Message declares none
        target.status.CopyFrom(src.status)  # type: ignore[attr-defined]
    else:
        dst.ClearField("status")


def spec_changed(new: Message, old: Message) -> bool:
    """Whether the spec changed: what metadata.generation counts for a kind with a spec."""
    if "spec" not in new.DESCRIPTOR.fields_by_name:
        return False
    changed: Any = new  # a kind with a spec field: Message declares none
    return bool(changed.spec != old.spec)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StatusWrite(Generic[T]):
    """A subresource written as status is (the request's part put into a copy of the stored
    object), with rules of its own: a CertificateSigningRequest's status and approval
    (kubernetes' StatusStrategy and ApprovalStrategy)."""

    # The request's part put into (a copy of) the stored object. (new, request)
    take: Callable[[T, T], None]
    # What the server sets before validation. (new, stored)
    prepare: Callable[[T, T], None]
    validate: Callable[[T, T], list[FieldError]]


@dataclass(frozen=True)
class Strategy(Generic[T]):
    resource: Resource
    validate: Callable[[T], list[FieldError]]
    validate_update: Callable[[T, T], list[FieldError]]
    # The values of the fields a field selector matches.
    fields: Callable[[T], Mapping[str, str]] = meta_fields
    default: Callable[[T], None] = no_defaults
    prepare_for_create: Callable[[T], None] = no_defaults
    # Field paths (beyond metadata.*) a field selector may use.
    selectable: frozenset[str] = field(default_factory=frozenset)
    # What the server sets on a status update (new, stored), before it is validated.
    prepare_for_status_update: Callable[[T, T], None] = _status_as_written
    # An update's changes to the new object, before validation, given the stored one.
    prepare_for_update: Callable[[T, T], None] = _nothing_to_prepare
    # Update: the stored object's status put into the new one (only UpdateStatus, or the
    # server, writes status). (new, stored)
    keep_status: Callable[[T, T], None] = copy_status
    # UpdateStatus: the request's status put into (a copy of) the stored object. (new, request)
    take_status: Callable[[T, T], None] = copy_status
    # Whether an update moves metadata.generation. (new, stored)
    generation_changed: Callable[[T, T], bool] = spec_changed
    # Drops what a decoded object's schema does not know (a custom resource's, a definition's
    # schemas' unknown keys) and names it: the unknown fields fieldValidation reports.
    prune: Callable[[T], list[str]] | None = None
    # What a new object gets once its name is final (after generateName) and it is valid
    # (Kubernetes' Canonicalize, which rest.BeforeCreate calls after validation).
    canonicalize: Callable[[T], None] = no_defaults
    # The subresources written like status whose rules are not the update's: by name ("status"
    # overrides take_status, prepare_for_status_update and validate_update for status writes).
    status_writes: Mapping[str, StatusWrite[T]] = field(default_factory=dict)

    @property
    def spec_field(self) -> str | None:
        """The message field Update replaces; status is only written by UpdateStatus."""
        names = self.resource.message.DESCRIPTOR.fields_by_name
        return "spec" if "spec" in names else None

    @property
    def selectable_fields(self) -> frozenset[str]:
        return frozenset({"metadata.name", "metadata.namespace"}) | self.selectable

    # The kind's messages (podplane.apimachinery.resources knows them untyped).
    def new(self) -> T:
        obj: T = self.resource.new()
        return obj

    def new_list(self) -> ListMessage[T]:
        out: ListMessage[T] = self.resource.list_message()
        return out

    def new_watch_event(self, type_: str) -> WatchMessage[T]:
        event: WatchMessage[T] = self.resource.watch_event()
        event.type = type_
        return event


def update_as_create(
    validate: Callable[[T], list[FieldError]],
) -> Callable[[T, T], list[FieldError]]:
    return lambda new, old: validate(new)


def clear_status(obj: Message) -> None:
    # A new controller object has observed nothing yet; its controller writes the status.
    obj.ClearField("status")
