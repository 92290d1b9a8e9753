"""An object's metadata.managedFields and the managers they hold (k8s.io/apimachinery's
managedfields internals: managedfields.go, the manager identifiers of buildmanagerinfo.go).

Each entry is one manager's set, identified by its name, its operation (Apply or Update), its
API version (for updaters only: an applier stays one manager whichever version it applies) and the
subresource it wrote through. Entries are written back sorted as Kubernetes sorts them: by
operation, time, manager, API version, subresource."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery.fieldmanager import fieldsv1, gojson
from podplane.apimachinery.fieldmanager.updater import ManagedFields, VersionedSet

APPLY = "Apply"
UPDATE = "Update"
FIELDS_V1 = "FieldsV1"


class ManagerKey(NamedTuple):
    """A manager's identity (BuildManagerIdentifier): the API version only for updaters."""

    manager: str
    operation: str
    api_version: str = ""
    subresource: str = ""

    def identifier(self) -> str:
        """The JSON Kubernetes uses as the identity (what it sorts managers by)."""
        parts = [f'"manager":{gojson.string(self.manager)}'] if self.manager else []
        if self.operation:
            parts.append(f'"operation":{gojson.string(self.operation)}')
        if self.api_version:
            parts.append(f'"apiVersion":{gojson.string(self.api_version)}')
        if self.subresource:
            parts.append(f'"subresource":{gojson.string(self.subresource)}')
        return "{" + ",".join(parts) + "}"

    def printed(self) -> str:
        """The manager as a conflict names it: `"kubectl-client-side-apply" using apps/v1`,
        `"kubelet" with subresource "status" using v1`, `"kubectl"` (an applier)."""
        out = gojson.quote(self.manager)
        if self.subresource:
            out += f" with subresource {gojson.quote(self.subresource)}"
        if self.operation == UPDATE:
            out += f" using {self.api_version}"
        return out


def key_of(entry: meta_pb2.ManagedFieldsEntry) -> ManagerKey:
    api_version = "" if entry.operation == APPLY else entry.api_version
    return ManagerKey(entry.manager, entry.operation, api_version, entry.subresource)


class ManagedFieldsError(ValueError):
    """managedFields that do not decode (DecodeManagedFields)."""


@dataclass
class Managed:
    """The managers of an object and when each last changed it (a ManagedInterface)."""

    fields: ManagedFields = field(default_factory=dict)
    times: dict[ManagerKey, str] = field(default_factory=dict)

    def copy(self) -> Managed:
        return Managed(dict(self.fields), dict(self.times))


def is_reset(entries: Sequence[meta_pb2.ManagedFieldsEntry]) -> bool:
    """Whether a request's managedFields ask to clear them: one empty entry (the JSON `[]`,
    which protobuf cannot tell from no list, reaches the registry as that)."""
    return len(entries) == 1 and entries[0].ByteSize() == 0


def decode(
    entries: Iterable[meta_pb2.ManagedFieldsEntry], *, stored: bool = False, lazily: bool = False
) -> Managed:
    """The managers entries hold; ManagedFieldsError for an entry Kubernetes would not decode.
    The sets of `stored` entries (this server wrote their text) are written back as they were
    read while no write changes them; others are written anew, in Kubernetes' form. Stored sets
    are read `lazily` if asked (see fieldsv1.loads_lazily: a malformed one raises FieldsError
    later)."""
    out = Managed()
    for i, entry in enumerate(entries):
        if entry.operation not in (APPLY, UPDATE):
            raise ManagedFieldsError("operation must be `Apply` or `Update`")
        if not entry.api_version:
            raise ManagedFieldsError("apiVersion must not be empty")
        if not entry.fields_type:
            raise ManagedFieldsError(f"missing fieldsType in managed fields entry {i}")
        if entry.fields_type != FIELDS_V1:
            raise ManagedFieldsError(
                f"invalid fieldsType {gojson.quote(entry.fields_type)} in managed fields entry {i}"
            )
        text = entry.fields_v1 or "{}"
        try:
            fields = fieldsv1.loads_lazily(text) if stored and lazily else fieldsv1.loads(text)
        except fieldsv1.FieldsError as e:
            raise ManagedFieldsError(f"error decoding set: {e}") from None
        key = key_of(entry)
        kept = text if stored else None
        out.fields[key] = VersionedSet(fields, entry.api_version, entry.operation == APPLY, kept)
        out.times[key] = entry.time
    return out


def decode_or_empty(
    entries: Iterable[meta_pb2.ManagedFieldsEntry], *, stored: bool = False, lazily: bool = False
) -> Managed:
    try:
        return decode(entries, stored=stored, lazily=lazily)
    except ManagedFieldsError:
        return Managed()


def encode(managed: Managed) -> list[meta_pb2.ManagedFieldsEntry]:
    """The entries of the managers, sorted as Kubernetes sorts them."""
    out: list[meta_pb2.ManagedFieldsEntry] = []
    for key, versioned in managed.fields.items():
        assert isinstance(key, ManagerKey)
        text = versioned.text
        if text is None:
            text = fieldsv1.dumps(versioned.fields)
        out.append(
            _entry(
                key.manager,
                APPLY if versioned.applied else key.operation,
                versioned.api_version,
                managed.times.get(key, ""),
                text,
                key.subresource,
            )
        )
    out.sort(key=lambda e: (e.operation, e.time, e.manager, e.api_version, e.subresource))
    return out


def update_entry(
    manager: str, api_version: str, time: str, text: str
) -> meta_pb2.ManagedFieldsEntry:
    """The entry of an updater of the main resource whose set is `text` (FieldsV1)."""
    return _entry(manager, UPDATE, api_version, time, text, "")


def _entry(
    manager: str, operation: str, api_version: str, time: str, text: str, subresource: str
) -> meta_pb2.ManagedFieldsEntry:
    return meta_pb2.ManagedFieldsEntry(
        manager=manager,
        operation=operation,
        api_version=api_version,
        time=time,
        fields_type=FIELDS_V1,
        fields_v1=text,
        subresource=subresource,
    )
