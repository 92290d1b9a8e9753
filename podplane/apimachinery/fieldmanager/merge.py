"""An applied configuration merged into an object, and paths removed from one
(structured-merge-diff's typed/merge.go and typed/remove.go).

The merge keeps the configuration's value at every leaf: a scalar, an atomic list or map is
replaced whole; granular maps merge key by key; lists of type map merge item by item by their
keys, and sets item by item, the configuration's items in its order with the object's others
kept where they were."""

from __future__ import annotations

from podplane.apimachinery.fieldmanager.compare import ABSENT
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


def merge(lhs: JSONValue, rhs: JSONValue, typ: Type) -> JSONValue:
    """`rhs` merged into `lhs` (TypedValue.Merge with the keep-RHS rule); ABSENT when both are."""
    if lhs is ABSENT:
        return rhs
    if rhs is ABSENT or lhs == rhs:
        return rhs if rhs is not ABSENT else lhs
    if typ.kind == UNTYPED and _shape(lhs) != _shape(rhs):
        return rhs
    typ = resolve(typ, rhs)
    kind = typ.kind
    if kind == SCALAR:
        return rhs
    if kind == MAP:
        assert isinstance(typ, MapType)
        left = lhs if isinstance(lhs, dict) else None
        right = rhs if isinstance(rhs, dict) else None
        if typ.atomic or (not left and not right):
            return rhs
        out: dict[str, JSONValue] = {}
        for name in _keys(left, right):
            lv = left.get(name, ABSENT) if left is not None else ABSENT
            rv = right.get(name, ABSENT) if right is not None else ABSENT
            child = typ.child(name)
            merged = merge(lv, rv, child if child is not None else UNTYPED_ATOMIC)
            if merged is not ABSENT:
                out[name] = merged
        return out if out else ABSENT
    assert isinstance(typ, ListType)
    left_list = lhs if isinstance(lhs, list) else None
    right_list = rhs if isinstance(rhs, list) else None
    if typ.list_type == ATOMIC or (not left_list and not right_list):
        return rhs
    items = _merge_items(typ, left_list or [], right_list or [])
    return items if items else ABSENT


def _shape(value: JSONValue) -> int:
    if isinstance(value, dict):
        return MAP
    if isinstance(value, list):
        return LIST
    return SCALAR


def _keys(left: dict[str, JSONValue] | None, right: dict[str, JSONValue] | None) -> list[str]:
    if left is None:
        return list(right or ())
    if right is None:
        return list(left)
    return list(left) + [k for k in right if k not in left]


def _merge_items(typ: ListType, lhs: list[JSONValue], rhs: list[JSONValue]) -> list[JSONValue]:
    """The items of two associative lists merged (mergingWalker.visitListItems): items both
    have are merged, in the configuration's order; the object's other items keep their places
    between them."""
    rhs_elements = [item_element(typ, item) for item in rhs]
    observed_rhs = dict(zip(rhs_elements, rhs, strict=True))
    lhs_elements: list[str] = []
    observed_lhs: dict[str, JSONValue] = {}
    for item in lhs:
        element = item_element(typ, item)
        # An item the object has twice is not merged with the configuration's: a null stands in.
        observed_lhs[element] = None if element in observed_lhs else item
        lhs_elements.append(element)
    shared = [e for e in rhs_elements if e in observed_lhs]
    shared.reverse()
    next_shared = shared.pop() if shared else None
    merged_rhs: set[str] = set()
    out: list[JSONValue] = []
    element_type = typ.element
    li, ri = 0, 0
    left_len, right_len = len(lhs_elements), len(rhs_elements)

    def add(value: JSONValue) -> None:
        if value is not ABSENT:
            out.append(value)

    while li < left_len or ri < right_len:
        if li < left_len and ri < right_len:
            element = lhs_elements[li]
            if element == rhs_elements[ri]:
                merged_rhs.add(element)
                add(merge(observed_lhs[element], observed_rhs[element], element_type))
                li += 1
                ri += 1
                next_shared = shared.pop() if shared else None
                continue
            if element in observed_rhs and next_shared is not None and next_shared != element:
                li += 1  # shared, but not the one to merge now
                continue
        if li < left_len:
            element = lhs_elements[li]
            if element not in observed_rhs:
                add(merge(lhs[li], ABSENT, element_type))
                li += 1
                continue
            if element in merged_rhs:
                li += 1
        if ri < right_len:
            element = rhs_elements[ri]
            merged_rhs.add(element)
            add(merge(observed_lhs.get(element, ABSENT), observed_rhs[element], element_type))
            ri += 1
            if next_shared is not None and next_shared == element:
                next_shared = shared.pop() if shared else None
    return out


def remove_items(value: JSONValue, paths: FieldSet, typ: Type) -> JSONValue:
    """The value without the paths (TypedValue.RemoveItems): a member removes what is at it,
    children remove under it; a map or list left with nothing is null."""
    typ = resolve(typ, value)
    kind = typ.kind
    if kind == SCALAR:
        return value
    if kind == MAP:
        assert isinstance(typ, MapType)
        if not isinstance(value, dict) or not value or typ.atomic:
            return None
        members, children = paths.members, paths.children
        out: dict[str, JSONValue] = {}
        for name, child in value.items():
            element = "f:" + name
            if element in members:
                continue
            under = children.get(element)
            if under is not None and not under.empty():
                child_type = typ.child(name)
                child = remove_items(
                    child, under, child_type if child_type is not None else UNTYPED_ATOMIC
                )
            out[name] = child
        return out if out else None
    assert isinstance(typ, ListType)
    if not isinstance(value, list) or not value or typ.list_type == ATOMIC:
        return None
    items: list[JSONValue] = []
    for item in value:
        element = item_element(typ, item)
        if element in paths.members:
            continue
        under = paths.children.get(element)
        if under is not None and not under.empty():
            item = remove_items(item, under, typ.element)
        items.append(item)
    return items if items else None
