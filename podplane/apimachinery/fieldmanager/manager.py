"""The field manager of one kind, as kube-apiserver runs it on every write
(k8s.io/apimachinery/pkg/util/managedfields: FieldManager over its chain of managers: version
check, last-applied updater and manager, skip-non-applied, cap managers, build manager info,
managed fields updater, strip meta, structured merge).

`update` records a create, update or patch: the fields the request changed go to its manager (an
Update entry: name, API version, subresource, time), and from everyone else. `apply` merges an
applied configuration into the object by the schema and records it (an Apply entry); it raises
Conflicts (see conflicts.py) and BadRequest. Objects are their JSON (codec.encode of the stored
message, or a custom resource's own), managed fields the API's ManagedFieldsEntry messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from podplane.api.meta.v1 import meta_pb2
from podplane.apimachinery import timeutil
from podplane.apimachinery.fieldmanager import lastapplied, managed
from podplane.apimachinery.fieldmanager.compare import ABSENT
from podplane.apimachinery.fieldmanager.fieldpath import EMPTY, FieldSet, make_path
from podplane.apimachinery.fieldmanager.managed import APPLY, UPDATE, Managed, ManagerKey
from podplane.apimachinery.fieldmanager.schema import Type
from podplane.apimachinery.fieldmanager.typed import TypedError, validate
from podplane.apimachinery.fieldmanager.updater import Conflicts, Updater, VersionedSet
from podplane.apimachinery.json_types import JSONObject, JSONValue

# How many Update entries an object keeps; the oldest past it are merged into one
# "ancient-changes" entry per API version (DefaultMaxUpdateManagers).
MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"
# The manager the fields an object had before its first apply are given to.
BEFORE_FIRST_APPLY = "before-first-apply"
# The manager name of a write that gives none and has no user agent.
UNKNOWN = "unknown"
# The manager whose applies keep the client-side apply annotation in step (kubectl's default).
KUBECTL = "kubectl"

# The metadata no manager owns: the object's identity and what the server keeps.
STRIPPED_METADATA = (
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "clusterName",
    "generation",
    "managedFields",
    "resourceVersion",
)
# Fields no manager owns (stripmeta.go).
STRIPPED = FieldSet.of(
    make_path("apiVersion"),
    make_path("kind"),
    make_path("metadata"),
    *(make_path("metadata", name) for name in STRIPPED_METADATA),
)
# Who an update's changes are first recorded for, before they are merged into its manager.
_CURRENT_OPERATION = ManagerKey("current-operation", UPDATE)


def now() -> str:
    """The time a manager's entry is stamped with: now, to the second."""
    return timeutil.now()


class BadRequest(ValueError):
    """A request the field manager refuses (400 BadRequest)."""


def group_version_kind(api_version: JSONValue, kind: JSONValue) -> str:
    """schema.GroupVersionKind's String() of what an object names itself: `apps/v1,
    Kind=Deployment`, `/v1, Kind=Pod`; an apiVersion that does not parse names nothing."""
    version = api_version if isinstance(api_version, str) else ""
    kind_name = kind if isinstance(kind, str) else ""
    if version.count("/") > 1:
        return "/, Kind="
    group, _, v = version.rpartition("/")
    return f"{group}/{v}, Kind={kind_name}"


def without_managed_fields(obj: JSONObject) -> JSONObject:
    """A shallow copy of an object's JSON without metadata.managedFields."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or "managedFields" not in metadata:
        return obj
    out = dict(obj)
    out["metadata"] = {k: v for k, v in metadata.items() if k != "managedFields"}
    return out


class FieldManager:
    """One kind's field manager: its type, API version and kind, the fields the server resets
    on a write through each subresource ("" for the main resource), and its empty object's JSON
    (what a create is compared with)."""

    def __init__(
        self,
        typ: Type,
        api_version: str,
        kind: str,
        empty: JSONObject,
        reset: Mapping[str, FieldSet] | None = None,
        *,
        served: frozenset[str] = frozenset(),
        clock: Callable[[], str] = now,
    ) -> None:
        """`served` are the other API versions of the same objects whose managers are kept (a
        custom resource's served versions, whose objects differ only in apiVersion with
        conversion None); a manager of a version not among them is dropped."""
        self.type = typ
        self.api_version = api_version
        self.kind = kind
        self.empty = empty
        self.clock = clock
        self.served = served | {api_version}
        self._reset = dict(reset or {})
        self._updaters: dict[str, Updater] = {}

    def reset(self, subresource: str) -> FieldSet:
        """The fields a write through `subresource` ("" the main resource) never owns."""
        return self._reset.get(subresource, EMPTY)

    def _updater(self, subresource: str) -> Updater:
        updater = self._updaters.get(subresource)
        if updater is None:
            reset = self._reset.get(subresource)
            ignored = dict.fromkeys(self.served, reset) if reset is not None else {}
            updater = self._updaters[subresource] = Updater(
                self.type, ignored, served=self.served.__contains__
            )
        return updater

    # ------------------------------------------------------------------ updates

    def update(
        self,
        live: JSONObject | None,
        new: JSONObject,
        live_entries: Sequence[meta_pb2.ManagedFieldsEntry],
        request_entries: Sequence[meta_pb2.ManagedFieldsEntry],
        manager: str,
        subresource: str = "",
    ) -> list[meta_pb2.ManagedFieldsEntry]:
        """The managed fields after a create (`live` None) or an update that made `new`. The
        request's own entries, when valid, replace the object's (an empty list clears them, and
        an object without any is not tracked until it is applied to); through a subresource the
        object's are kept."""
        if subresource or not request_entries:
            state = managed.decode_or_empty(live_entries, stored=True)
        elif managed.is_reset(request_entries):
            state = Managed()
        else:
            try:
                state = managed.decode(request_entries)
            except managed.ManagedFieldsError:
                state = Managed()
            if not state.fields:
                state = managed.decode_or_empty(live_entries, stored=True)
        if not state.fields and live is not None:
            return []  # an untracked object stays so until it is applied to
        before = without_managed_fields(live) if live is not None else self.empty
        state = self._record_update(
            before, without_managed_fields(new), state, manager, subresource
        )
        return managed.encode(state)

    def _record_update(
        self, live: JSONValue, new: JSONValue, state: Managed, manager: str, subresource: str
    ) -> Managed:
        key = ManagerKey(manager or UNKNOWN, UPDATE, self.api_version, subresource)
        fields = self._updater(subresource).update(
            live, new, self.api_version, state.fields, _CURRENT_OPERATION
        )
        times = dict(state.times)
        current = fields.pop(_CURRENT_OPERATION, None)
        if current is not None:
            current_fields = current.fields.difference(STRIPPED)
            if not current_fields.empty():
                previous = fields.get(key)
                if previous is not None:
                    current_fields = current_fields.union(previous.fields)
                fields[key] = VersionedSet(current_fields, current.api_version, current.applied)
                times[key] = self.clock()
        return _cap_updaters(Managed(fields, times))

    # ------------------------------------------------------------------ applies

    def apply(
        self,
        live: JSONObject | None,
        live_entries: Sequence[meta_pb2.ManagedFieldsEntry],
        config: JSONObject,
        manager: str,
        *,
        force: bool = False,
        subresource: str = "",
    ) -> tuple[JSONObject, list[meta_pb2.ManagedFieldsEntry]]:
        """The object `manager`'s applied configuration makes of `live` (None: the object does
        not exist yet) and its managed fields. Raises BadRequest for a configuration that is not
        one of this kind, and Conflicts."""
        state = managed.decode(live_entries, stored=True)
        gvk = group_version_kind(config.get("apiVersion"), config.get("kind"))
        if gvk != group_version_kind(self.api_version, self.kind):
            raise BadRequest(f"invalid object type: {gvk}")
        current = without_managed_fields(live) if live is not None else self.empty
        try:
            result, state = self._apply(current, config, state, manager, force, subresource)
        except Conflicts as conflicts:
            if manager != KUBECTL:
                raise
            # kubectl's first server-side apply of an object it applied client-side: the fields
            # its last-applied annotation set, with their values, are its to take.
            allowed = lastapplied.allowed_conflicts(current, self.type, self.api_version)
            if allowed is None:
                raise
            left = [c for c in conflicts.conflicts if not allowed.has(c.path)]
            if left:
                raise Conflicts(left) from None
            result, state = self._apply(current, config, state, manager, True, subresource)
        if manager == KUBECTL and lastapplied.has_annotation(result):
            result = lastapplied.with_annotation(result, lastapplied.build(config))
        return result, managed.encode(state)

    def _apply(
        self,
        live: JSONObject,
        config: JSONObject,
        state: Managed,
        manager: str,
        force: bool,
        subresource: str,
    ) -> tuple[JSONObject, Managed]:
        if not state.fields:
            state = self._record_update(self.empty, live, state, BEFORE_FIRST_APPLY, subresource)
        key = ManagerKey(manager, APPLY, "", subresource)
        metadata = config.get("metadata")
        if isinstance(metadata, dict) and metadata.get("managedFields") is not None:
            raise BadRequest("metadata.managedFields must be nil")
        try:
            validate(config, self.type)
        except TypedError as e:
            raise BadRequest(
                f"failed to create typed patch object ({_named(config)}): {e}"
            ) from None
        new, fields = self._updater(subresource).apply(
            live, config, self.api_version, state.fields, key, force
        )
        applied = fields.get(key)
        if applied is not None:
            stripped = applied.fields.difference(STRIPPED)
            if stripped.empty():
                del fields[key]
            else:
                fields[key] = VersionedSet(stripped, applied.api_version, applied.applied)
        times = dict(state.times)
        if new is ABSENT:  # the apply changes nothing
            return live, Managed(fields, times)
        times[key] = self.clock()
        return new, Managed(fields, times)


def _named(obj: JSONObject) -> str:
    """objectGVKNN: `namespace/name; group/version, Kind=Kind` of an applied configuration."""
    metadata = obj.get("metadata")
    meta = metadata if isinstance(metadata, dict) else {}
    namespace, name = meta.get("namespace"), meta.get("name")
    gvk = group_version_kind(obj.get("apiVersion"), obj.get("kind"))
    return f"{_text(namespace)}/{_text(name)}; {gvk}"


def _text(value: JSONValue) -> str:
    return value if isinstance(value, str) else ""


def _cap_updaters(state: Managed, limit: int = MAX_UPDATE_MANAGERS) -> Managed:
    """Merges the oldest Update entries into an ancient-changes entry per API version until at
    most `limit` are left (capmanagers.go)."""
    fields, times = state.fields, state.times
    updaters = [m for m, vs in fields.items() if not vs.applied]
    if len(updaters) <= limit:
        return state

    def age(m: object) -> tuple[str, str]:
        assert isinstance(m, ManagerKey)
        return times.get(m, ""), m.identifier()

    updaters.sort(key=age)
    first_of_version: dict[str, object] = {}
    length = len(updaters)
    for manager in updaters:
        if length <= limit:
            break
        versioned = fields[manager]
        version = versioned.api_version
        bucket = ManagerKey(ANCIENT_CHANGES, UPDATE, version)
        first = first_of_version.get(version)
        if first is None:
            first_of_version[version] = manager
            continue
        if bucket not in fields:
            fields[bucket] = fields.pop(first)
        fields[bucket] = VersionedSet(
            versioned.fields.union(fields[bucket].fields), version, versioned.applied
        )
        del fields[manager]
        length -= 1
        assert isinstance(manager, ManagerKey)
        times[bucket] = times.get(manager, "")
    return state
