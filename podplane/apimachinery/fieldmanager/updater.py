"""Who owns which fields after a write (structured-merge-diff's merge.Updater).

An update (create, update, patch) gives the fields it changed to its manager and takes them from
every other manager; the fields it removed go from everyone. An apply merges the configuration
into the object, gives the manager exactly the fields the configuration sets, removes the fields
the manager applied last time and omits now (unless another manager owns them), and refuses with
Conflicts when it would change a field another manager owns, unless forced, which takes the field
over. A manager left owning nothing is dropped.

Each manager's set is kept with the API version it was written in. No conversion happens: the
objects here have one version each, or (a custom resource's, conversion None) versions that
differ only in apiVersion, so each manager's fields are compared on the object as it is. A manager
of a version the type does not serve (`served` says no) is dropped, as Kubernetes drops the
managers of versions it no longer serves."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from podplane.apimachinery.fieldmanager.compare import ABSENT, Comparison, compare
from podplane.apimachinery.fieldmanager.fieldpath import EMPTY, FieldSet, Path
from podplane.apimachinery.fieldmanager.merge import merge, remove_items
from podplane.apimachinery.fieldmanager.schema import Type
from podplane.apimachinery.fieldmanager.typed import ensure_named_fields_are_members, to_field_set
from podplane.apimachinery.json_types import JSONValue


@dataclass(frozen=True, slots=True)
class VersionedSet:
    """One manager's fields, the API version they were written in, and whether it applied them
    (fieldpath.VersionedSet)."""

    fields: FieldSet
    api_version: str
    applied: bool
    # The FieldsV1 text the set was read from, if it was read and not changed since.
    text: str | None = field(default=None, compare=False)


# A manager's identity -> its fields. Kubernetes' identities are ManagerKeys (managed.py); any
# hashable value serves (structured-merge-diff's tests name managers by plain strings).
ManagedFields = dict[Hashable, VersionedSet]


@dataclass(frozen=True, slots=True)
class Conflict:
    manager: Hashable
    path: Path


class Conflicts(Exception):
    """An apply that would change fields other managers own (merge.Conflicts)."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts

    @classmethod
    def of(cls, sets: Mapping[Hashable, FieldSet]) -> Conflicts:
        return cls([Conflict(m, path) for m, fields in sets.items() for path in fields.paths()])


def _served_always(version: str) -> bool:
    return True


class Updater:
    """Ownership of one type's objects. `ignored` are, per API version, the fields a write's
    manager never owns (the fields the server resets: a main resource's status)."""

    def __init__(
        self,
        typ: Type,
        ignored: Mapping[str, FieldSet] | None = None,
        *,
        served: Callable[[str], bool] = _served_always,
        return_input_on_noop: bool = False,
    ) -> None:
        self.typ = typ
        self.ignored = dict(ignored or {})
        self.served = served
        self.return_input_on_noop = return_input_on_noop

    def _reconcile(self, managers: Mapping[Hashable, VersionedSet]) -> ManagedFields:
        """A copy of the managers, without those of versions not served."""
        return {m: vs for m, vs in managers.items() if self.served(vs.api_version)}

    def _update(
        self,
        old: JSONValue,
        new: JSONValue,
        version: str,
        managers: ManagedFields,
        workflow: Hashable,
        force: bool,
    ) -> Comparison:
        """Takes what `new` changed from every manager but `workflow` (raising Conflicts for
        the fields it changed, unless forced) and drops the managers left with nothing;
        `managers` is changed in place. Returns the comparison at `version`."""
        base = compare(old, new, self.typ)
        by_version: dict[str, tuple[Comparison, FieldSet]] = {}

        def at(v: str) -> tuple[Comparison, FieldSet]:
            found = by_version.get(v)
            if found is None:
                comparison = base.exclude(self.ignored.get(v, EMPTY))
                found = by_version[v] = (
                    comparison,
                    comparison.modified.union(comparison.added),
                )
            return found

        conflicts: dict[Hashable, FieldSet] = {}
        removed: dict[Hashable, FieldSet] = {}
        for manager, versioned in list(managers.items()):
            if manager == workflow:
                continue
            if not self.served(versioned.api_version):
                del managers[manager]
                continue
            comparison, changed = at(versioned.api_version)
            taken = versioned.fields.intersection(changed)
            if not taken.empty():
                conflicts[manager] = taken
            if not comparison.removed.empty():
                removed[manager] = comparison.removed
        if conflicts and not force:
            raise Conflicts.of(conflicts)
        for manager, taken in conflicts.items():
            versioned = managers[manager]
            managers[manager] = VersionedSet(
                versioned.fields.difference(taken), versioned.api_version, versioned.applied
            )
        for manager, gone in removed.items():
            versioned = managers[manager]
            managers[manager] = VersionedSet(
                versioned.fields.difference(gone), versioned.api_version, versioned.applied
            )
        for manager in [m for m, vs in managers.items() if vs.fields.empty()]:
            del managers[manager]
        return at(version)[0]

    def update(
        self,
        live: JSONValue,
        new: JSONValue,
        version: str,
        managers: Mapping[Hashable, VersionedSet],
        manager: Hashable,
    ) -> ManagedFields:
        """The managers after `manager` made `new` of `live` (Updater.Update)."""
        out = self._reconcile(managers)
        comparison = self._update(live, new, version, out, manager, True)
        previous = out.get(manager)
        fields = previous.fields.difference(comparison.removed) if previous else FieldSet()
        fields = fields.union(comparison.modified).union(comparison.added)
        fields = fields.recursive_difference(self.ignored.get(version, EMPTY))
        if fields.empty():
            out.pop(manager, None)
        else:
            out[manager] = VersionedSet(fields, version, False)
        return out

    def apply(
        self,
        live: JSONValue,
        config: JSONValue,
        version: str,
        managers: Mapping[Hashable, VersionedSet],
        manager: Hashable,
        force: bool,
    ) -> tuple[JSONValue, ManagedFields]:
        """The object `manager`'s configuration makes of `live` (ABSENT when it changes nothing)
        and the managers after it (Updater.Apply); raises Conflicts."""
        out = self._reconcile(managers)
        merged = merge(live, config, self.typ)
        last = out.get(manager)
        fields = to_field_set(config, self.typ)
        ignored = self.ignored.get(version)
        if ignored is not None:
            fields = fields.recursive_difference(ignored)
        out[manager] = VersionedSet(fields, version, True)
        merged = self._prune(merged, out, manager, last)
        self._update(live, merged, version, out, manager, force)
        if not self.return_input_on_noop and live == merged:
            return ABSENT, out
        return merged, out

    # ------------------------------------------------------------ what an applier let go

    def _ensure(self, fields: FieldSet) -> FieldSet:
        return ensure_named_fields_are_members(fields, self.typ)

    def _prune(
        self,
        merged: JSONValue,
        managers: ManagedFields,
        applying: Hashable,
        last: VersionedSet | None,
    ) -> JSONValue:
        """Removes what `applying` applied last time and not now, unless someone owns it."""
        if last is None or last.fields.empty() or not self.served(last.api_version):
            return merged
        pruned = remove_items(merged, self._ensure(last.fields), self.typ)
        pruned = self._add_back_owned(merged, pruned, last.api_version, managers)
        return self._add_back_dangling(merged, pruned, last)

    def _add_back_owned(
        self, merged: JSONValue, pruned: JSONValue, pruned_version: str, managers: ManagedFields
    ) -> JSONValue:
        """What the prune removed but a manager (the applier's new configuration too) owns."""
        managed: dict[str, FieldSet] = {}
        for versioned in managers.values():
            v = versioned.api_version
            managed[v] = managed.get(v, FieldSet()).union(versioned.fields)
        versions = sorted(managed, key=lambda v: v != pruned_version)
        for version in versions:
            if not self.served(version):
                continue
            merged_set = self._ensure(to_field_set(merged, self.typ))
            pruned_set = self._ensure(to_field_set(pruned, self.typ))
            keep = pruned_set.union(self._ensure(managed[version]))
            pruned = remove_items(merged, merged_set.difference(keep), self.typ)
        return pruned

    def _add_back_dangling(
        self, merged: JSONValue, pruned: JSONValue, last: VersionedSet
    ) -> JSONValue:
        """Removes only what the applier owned: fields no one owned stay."""
        pruned_set = self._ensure(to_field_set(pruned, self.typ))
        merged_set = self._ensure(to_field_set(merged, self.typ))
        owned = self._ensure(last.fields)
        return remove_items(merged, merged_set.difference(pruned_set).intersection(owned), self.typ)
