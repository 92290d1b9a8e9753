"""What changed between two values of one type (structured-merge-diff's typed/compare.go): the
paths removed, modified and added, each leaf (a scalar, an atomic list or map, an empty one) by
its value, and each map, list or item that appears or goes as a whole by its own path too (the
`.` of a managed fields set).

This runs on every write, so it is written for speed: subtrees that are equal are not walked
(Python compares them in C), a subtree only one side has is recorded in one pass without
comparing, and the sets are built level by level as the walk goes (no path is walked twice)."""

from __future__ import annotations

from dataclasses import dataclass

from podplane.apimachinery.fieldmanager.fieldpath import FieldSet
from podplane.apimachinery.fieldmanager.schema import (
    ATOMIC,
    LIST,
    MAP,
    SCALAR,
    UNTYPED,
    UNTYPED_ATOMIC,
    ListType,
    MapType,
    Type,
    resolve,
)
from podplane.apimachinery.fieldmanager.typed import item_element
from podplane.apimachinery.json_types import JSONValue


class _Absent:
    """A value that is not there at all (Go's nil Value), unlike JSON null."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


@dataclass
class Comparison:
    removed: FieldSet
    modified: FieldSet
    added: FieldSet

    def same(self) -> bool:
        return self.removed.empty() and self.modified.empty() and self.added.empty()

    def exclude(self, fields: FieldSet) -> Comparison:
        """The comparison without the paths under `fields` (the fields a strategy resets)."""
        if fields.empty():
            return self
        return Comparison(
            self.removed.recursive_difference(fields),
            self.modified.recursive_difference(fields),
            self.added.recursive_difference(fields),
        )


def compare(lhs: JSONValue, rhs: JSONValue, typ: Type) -> Comparison:
    """What `rhs` changed of `lhs`."""
    out = Comparison(FieldSet(), FieldSet(), FieldSet())
    if lhs is ABSENT or rhs is ABSENT:
        holder = FieldSet()
        only_one_side(rhs if lhs is ABSENT else lhs, typ, holder, ".")
        whole = holder.children.get(".", FieldSet())
        if lhs is ABSENT:
            out.added = whole
        else:
            out.removed = whole
    elif not _equal(lhs, rhs):
        _compare(lhs, rhs, typ, out, None)
    return out


def _equal(a: JSONValue, b: JSONValue) -> bool:
    """value.Equals: a bool equals no number (Python's True == 1 would)."""
    if a == b:
        return isinstance(a, bool) == isinstance(b, bool) or not isinstance(a, (bool, int))
    return False


def _shape(value: JSONValue) -> int:
    if isinstance(value, dict):
        return MAP
    if isinstance(value, list):
        return LIST
    return SCALAR


def only_one_side(value: JSONValue, typ: Type, parent: FieldSet, element: str) -> None:
    """Records, in `parent`, a value only one side has at `element`: itself, and every map,
    list, item and leaf under it, as compare records what is added or removed whole."""
    parent.members.add(element)
    kind = typ.kind
    if kind == SCALAR or not value:
        return
    if kind == UNTYPED:
        typ = resolve(typ, value)
        kind = typ.kind
        if kind == SCALAR:
            return
    here = FieldSet()
    if kind == MAP:
        assert isinstance(typ, MapType)
        if typ.atomic or not isinstance(value, dict):
            return
        fields, other = typ.fields, typ.element
        members = here.members
        for name, child in value.items():
            child_type = fields.get(name) or other or UNTYPED_ATOMIC
            if child_type.kind == SCALAR:  # a leaf: recorded here, no call
                members.add("f:" + name)
            else:
                only_one_side(child, child_type, here, "f:" + name)
    else:
        assert isinstance(typ, ListType)
        if typ.list_type == ATOMIC or not isinstance(value, list):
            return
        seen: dict[str, JSONValue] = {}
        twice: set[str] = set()
        for item in value:
            try:
                step = item_element(typ, item)
            except ValueError:
                continue
            if step in seen:
                twice.add(step)
            else:
                seen[step] = item
        element_type = typ.element
        for step, item in seen.items():
            if step in twice:
                here.members.add(step)  # an item given twice is recorded whole
            else:
                only_one_side(item, element_type, here, step)
    if here.members or here.children:
        parent.children[element] = here


def _compare(
    lhs: JSONValue, rhs: JSONValue, typ: Type, parent: Comparison, element: str | None
) -> None:
    """Records what changed at `element` of the parent's sets (None: the root); both sides
    are there and differ."""
    if typ.kind == UNTYPED and _shape(lhs) != _shape(rhs):
        _modified(parent, element)
        return
    typ = resolve(typ, rhs)
    kind = typ.kind
    if kind == SCALAR:
        _modified(parent, element)
        return
    if kind == MAP:
        assert isinstance(typ, MapType)
        left = lhs if isinstance(lhs, dict) else None
        right = rhs if isinstance(rhs, dict) else None
        if typ.atomic or (not left and not right):
            _modified(parent, element)
            return
        here = Comparison(FieldSet(), FieldSet(), FieldSet()) if element is not None else parent
        fields, other = typ.fields, typ.element
        if left is None:
            for name, rv in (right or {}).items():
                child_type = fields.get(name) or other or UNTYPED_ATOMIC
                only_one_side(rv, child_type, here.added, "f:" + name)
        elif right is None:
            for name, lv in left.items():
                child_type = fields.get(name) or other or UNTYPED_ATOMIC
                only_one_side(lv, child_type, here.removed, "f:" + name)
        else:
            for name, lv in left.items():
                rv = right.get(name, ABSENT)
                if rv is not ABSENT and _equal(lv, rv):
                    continue
                child_type = fields.get(name) or other or UNTYPED_ATOMIC
                if rv is ABSENT:
                    only_one_side(lv, child_type, here.removed, "f:" + name)
                else:
                    _compare(lv, rv, child_type, here, "f:" + name)
            for name, rv in right.items():
                if name not in left:
                    child_type = fields.get(name) or other or UNTYPED_ATOMIC
                    only_one_side(rv, child_type, here.added, "f:" + name)
    else:
        assert isinstance(typ, ListType)
        left_list = lhs if isinstance(lhs, list) else None
        right_list = rhs if isinstance(rhs, list) else None
        if typ.list_type == ATOMIC or (not left_list and not right_list):
            _modified(parent, element)
            return
        here = Comparison(FieldSet(), FieldSet(), FieldSet()) if element is not None else parent
        _compare_items(typ, left_list or [], right_list or [], here)
    if element is not None:
        _attach(parent.removed, here.removed, element)
        _attach(parent.modified, here.modified, element)
        _attach(parent.added, here.added, element)


def _attach(parent: FieldSet, child: FieldSet, element: str) -> None:
    if child.members or child.children:
        parent.children[element] = child


def _modified(parent: Comparison, element: str | None) -> None:
    if element is not None:
        parent.modified.members.add(element)


def _index(typ: ListType, items: list[JSONValue], order: list[str]) -> dict[str, list[JSONValue]]:
    """A list's items by path element (duplicates kept together); new elements go to `order`."""
    by_element: dict[str, list[JSONValue]] = {}
    for item in items:
        try:
            element = item_element(typ, item)
        except ValueError:
            continue  # not an item of this list's type: nothing can be said of it
        found = by_element.get(element)
        if found is None:
            by_element[element] = [item]
            order.append(element)
        else:
            found.append(item)
    return by_element


_NO_ITEMS: list[JSONValue] = []


def _compare_items(
    typ: ListType, lhs: list[JSONValue], rhs: list[JSONValue], here: Comparison
) -> None:
    order: list[str] = []
    left = _index(typ, lhs, order)
    right_order: list[str] = []
    right = _index(typ, rhs, right_order)
    order.extend(e for e in right_order if e not in left)
    element_type = typ.element
    for element in order:
        lvs, rvs = left.get(element, _NO_ITEMS), right.get(element, _NO_ITEMS)
        if len(lvs) <= 1 and len(rvs) <= 1:
            if not lvs:
                only_one_side(rvs[0], element_type, here.added, element)
            elif not rvs:
                only_one_side(lvs[0], element_type, here.removed, element)
            elif not _equal(lvs[0], rvs[0]):
                _compare(lvs[0], rvs[0], element_type, here, element)
        elif len(lvs) >= 2 and len(rvs) >= 2:
            if len(lvs) != len(rvs) or not all(_equal(a, b) for a, b in zip(lvs, rvs, strict=True)):
                here.modified.members.add(element)
        elif len(lvs) >= 2:
            if rvs:
                only_one_side(rvs[0], element_type, here.added, element)
            here.removed.members.add(element)
        else:
            if lvs:
                only_one_side(lvs[0], element_type, here.removed, element)
            here.added.members.add(element)
