"""A runner for structured-merge-diff's merge test cases (its internal/fixture package): a sequence
of applies and updates by named managers on one live value, then the live value and each
manager's set checked. Objects are YAML, as the Go cases write them; schemas are OpenAPI v3
structural schemas (openapi_schema.py reads them), the Go cases' typed.Parser types rewritten as
such; every API version has the same type (the fixture's SameVersionParser)."""

from __future__ import annotations

import textwrap
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from podplane.apimachinery.fieldmanager import fieldpath
from podplane.apimachinery.fieldmanager.compare import ABSENT
from podplane.apimachinery.fieldmanager.fieldpath import FieldSet, Path
from podplane.apimachinery.fieldmanager.openapi_schema import openapi_type
from podplane.apimachinery.fieldmanager.typed import validate
from podplane.apimachinery.fieldmanager.updater import Conflicts, ManagedFields, Updater


def p(*steps: Any) -> Path:
    """A path (the Go tests' _P): field names, {key: value} for list items, v(x) for set items."""
    return fieldpath.make_path(*steps)


def v(item: Any) -> str:
    """A set item's element (the Go tests' _V)."""
    return fieldpath.value(item)


def yaml_value(text: str) -> Any:
    return yaml.safe_load(textwrap.dedent(text)) if text.strip() else None


@dataclass(frozen=True)
class Apply:
    manager: str
    version: str
    obj: str
    # The conflicts the apply must fail with (None: it must not).
    conflicts: frozenset[tuple[str, Path]] | None = None
    force: bool = False


@dataclass(frozen=True)
class Update:
    manager: str
    version: str
    obj: str


@dataclass
class Case:
    ops: Sequence[Apply | Update]
    # The live value at the end (None: not checked) and the managers' sets and versions.
    live: str | None = None
    managed: Mapping[str, tuple[Sequence[Path], str]] | None = None
    ignored: Mapping[str, Sequence[Path]] = field(default_factory=dict)


def _same_live(expected: Any, live: Any) -> bool:
    """The fixture compares the unstructured values: an empty map and null are both nothing."""
    return (expected or None) == (live or None)


def run(case: Case, schema: Mapping[str, Any]) -> tuple[Any, ManagedFields]:
    typ = openapi_type(schema)
    updater = Updater(
        typ,
        {ver: FieldSet.of(*paths) for ver, paths in case.ignored.items()},
        served=bool,
    )
    live: Any = None
    managers: ManagedFields = {}
    for op in case.ops:
        obj = yaml_value(op.obj)
        if isinstance(op, Update):
            validate(obj, typ, allow_duplicates=True)
            managers = updater.update(live, obj, op.version, managers, op.manager)
            live = obj
            continue
        validate(obj, typ)
        try:
            new, managers = updater.apply(live, obj, op.version, managers, op.manager, op.force)
        except Conflicts as e:
            found = {(str(c.manager), c.path) for c in e.conflicts}
            assert op.conflicts is not None, f"unexpected conflicts: {found}"
            assert found == set(op.conflicts)
            continue
        assert op.conflicts is None, f"expected conflicts {set(op.conflicts)}"
        if new is not ABSENT:
            live = new
    if case.live is not None:
        assert _same_live(yaml_value(case.live), live), live
    if case.managed is not None:
        expected: dict[Hashable, tuple[FieldSet, str]] = {
            m: (FieldSet.of(*paths), ver) for m, (paths, ver) in case.managed.items()
        }
        got = {m: (vs.fields, vs.api_version) for m, vs in managers.items()}
        assert got == expected, (got, expected)
    for manager, versioned in managers.items():
        assert not versioned.fields.empty(), f"{manager} owns nothing"
    return live, managers
