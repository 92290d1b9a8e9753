"""A value read with its type (structured-merge-diff's typed package): its validation, the set of
fields it sets (what an applier owns), the path element of a list's item, and the sets a prune
removes (named fields made members).

Values are decoded JSON: an object's JSON as Kubernetes writes it (podplane.apimachinery.codec),
or an applied configuration as a client sent it."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from podplane.apimachinery.fieldmanager import fieldpath
from podplane.apimachinery.fieldmanager.fieldpath import FieldSet, Path
from podplane.apimachinery.fieldmanager.schema import (
    ANY_SCALAR,
    ATOMIC,
    BOOLEAN,
    LIST,
    MAP,
    MISSING,
    NUMERIC,
    SCALAR,
    STRING,
    UNTYPED,
    ListType,
    MapType,
    ScalarType,
    Type,
    UntypedType,
    resolve,
)
from podplane.apimachinery.json_types import JSONValue


class TypedError(ValueError):
    """A value its schema does not take: each error with the path it is at, worded as
    structured-merge-diff words them (`.spec.foo: field not declared in schema`)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        lines = [f"{path}: {message}" if path else message for path, message in errors]
        super().__init__(lines[0] if len(lines) == 1 else "errors:\n  " + "\n  ".join(lines))


def item_element(typ: ListType, item: JSONValue) -> str:
    """The path element of a list item: its keys (a list of type map) or its value (a set);
    ValueError when the item cannot be one (listItemToPathElement)."""
    if typ.keys:
        if item is None:
            raise ValueError("associative list with keys may not have a null element")
        if not isinstance(item, dict):
            raise ValueError("associative list with keys may not have non-map elements")
        fields: list[tuple[str, JSONValue]] = []
        element = typ.element
        for name in typ.keys:
            found = item.get(name, MISSING)
            if found is MISSING and isinstance(element, MapType):
                found = element.default(name)
            if found is MISSING or found is None:
                raise ValueError(
                    f'associative list with keys has an element that omits key field "{name}" '
                    "(and doesn't have default value)"
                )
            fields.append((name, found))
        if all(isinstance(v, (str, int)) for _, v in fields):
            return _scalar_key(tuple(fields))  # keys are nearly always names and numbers
        return fieldpath.key(dict(fields))
    if isinstance(item, dict):
        raise ValueError("associative list without keys has an element that's a map type")
    if isinstance(item, list):
        raise ValueError("not supported: associative list with lists as elements")
    if item is None:
        raise ValueError("associative list without keys has an element that's an explicit null")
    return fieldpath.value(item)


@functools.lru_cache(maxsize=1 << 14)
def _scalar_key(fields: tuple[tuple[str, JSONValue], ...]) -> str:
    return fieldpath.key(dict(fields))


def list_elements(typ: ListType, items: list[JSONValue]) -> Iterator[tuple[str, JSONValue]]:
    """Each item of an associative list with its path element (items already validated)."""
    for item in items:
        yield item_element(typ, item), item


# ---------------------------------------------------------------- validation


def validate(value: JSONValue, typ: Type, *, allow_duplicates: bool = False) -> None:
    """Raises TypedError when the value does not fit the type: a field the type does not
    declare, a value of another shape, a list item without its keys, a key twice."""
    errors: list[tuple[str, str]] = []
    _validate(value, typ, "", errors, allow_duplicates)
    if errors:
        raise TypedError(errors)


def _shape(value: JSONValue) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "null"


def _validate(
    value: JSONValue, typ: Type, path: str, errors: list[tuple[str, str]], duplicates: bool
) -> None:
    typ = resolve(typ, value)
    kind = typ.kind
    if kind == SCALAR:
        assert isinstance(typ, ScalarType)
        problem = _scalar_problem(typ.scalar, value)
        if problem:
            errors.append((path, problem))
    elif kind == MAP:
        assert isinstance(typ, MapType)
        if value is None:
            return
        if not isinstance(value, dict):
            errors.append((path, f"expected map, got {_shape(value)}"))
            return
        for name, child in value.items():
            child_type = typ.child(name)
            if child_type is None:
                errors.append((f"{path}.{name}", "field not declared in schema"))
                return
            _validate(child, child_type, f"{path}.{name}", errors, duplicates)
    else:
        assert isinstance(typ, ListType)
        if value is None:
            return
        if not isinstance(value, list):
            errors.append((path, f"expected list, got {_shape(value)}"))
            return
        seen: set[str] = set()
        for i, item in enumerate(value):
            if typ.list_type == ATOMIC:
                step = f"[{i}]"
            else:
                try:
                    element = item_element(typ, item)
                except ValueError as e:
                    errors.append((path, f"element {i}: {e}"))
                    return
                if element in seen and not duplicates:
                    errors.append(
                        (path, f"duplicate entries for key {fieldpath.show_element(element)}")
                    )
                seen.add(element)
                step = fieldpath.show_element(element)
            _validate(item, typ.element, path + step, errors, duplicates)


def _scalar_problem(scalar: str, value: JSONValue) -> str:
    if value is None:
        return ""
    if scalar == NUMERIC:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return "" if ok else f"expected numeric (int or float), got {_shape(value)}"
    if scalar == STRING:
        return "" if isinstance(value, str) else f"expected string, got {_shape(value)}"
    if scalar == BOOLEAN:
        return "" if isinstance(value, bool) else f"expected boolean, got {_shape(value)}"
    assert scalar == ANY_SCALAR
    return (
        "" if not isinstance(value, (dict, list)) else f"expected any scalar, got {_shape(value)}"
    )


# ---------------------------------------------------------------- the fields a value sets


def to_field_set(value: JSONValue, typ: Type) -> FieldSet:
    """The paths a value sets (TypedValue.ToFieldSet): its leaves, the items of its associative
    lists, its atomic lists and maps whole, its empty maps, and the keys of its maps that are not
    declared fields (labels' keys)."""
    out = FieldSet()
    _to_set(value, typ, out, None)
    return out


def _to_set(value: JSONValue, typ: Type, parent: FieldSet, element: str | None) -> None:
    """Adds what `value` sets, found at `element` of `parent` (None: the root), to `parent`."""
    typ = resolve(typ, value)
    kind = typ.kind
    if kind == SCALAR:
        if element is not None:
            parent.members.add(element)
        return
    if kind == MAP:
        assert isinstance(typ, MapType)
        if typ.atomic:
            if element is not None:
                parent.members.add(element)
            return
        if not isinstance(value, dict) or not value:
            return
        here = parent if element is None else _child(parent, element)
        fields = typ.fields
        for name, child in value.items():
            declared = fields.get(name)
            child_type = declared if declared is not None else typ.element
            step = "f:" + name
            if child_type is None:
                continue
            _to_set(child, child_type, here, step)
            if child is None or declared is None or (isinstance(child, dict) and not child):
                here.members.add(step)
        _prune(parent, element, here)
        return
    assert isinstance(typ, ListType)
    if typ.list_type == ATOMIC:
        if element is not None:
            parent.members.add(element)
        return
    if not isinstance(value, list) or not value:
        return
    here = parent if element is None else _child(parent, element)
    counts: dict[str, int] = {}
    items: list[tuple[str, JSONValue]] = []
    for item in value:
        try:
            step = item_element(typ, item)
        except ValueError:
            continue
        counts[step] = counts.get(step, 0) + 1
        items.append((step, item))
    for step, item in items:
        if counts[step] > 1:
            here.members.add(step)  # a duplicated item is owned whole, once
            continue
        _to_set(item, typ.element, here, step)
        here.members.add(step)
    _prune(parent, element, here)


def _child(parent: FieldSet, element: str) -> FieldSet:
    return parent.descend(element)


def _prune(parent: FieldSet, element: str | None, here: FieldSet) -> None:
    """Drops an empty child set a walk created and filled with nothing."""
    if element is not None and not here.members and not here.children:
        del parent.children[element]


# ---------------------------------------------------------------- named fields


def ensure_named_fields_are_members(fields: FieldSet, typ: Type | None) -> FieldSet:
    """The set with each declared field that has paths under it a member as well (what a prune
    removes whole, then adds back what others own: Set.EnsureNamedFieldsAreMembers)."""
    if not fields.children:
        return fields
    map_type = _map_of(typ)
    list_element = _list_element_of(typ)
    members = set(fields.members)
    children: dict[str, FieldSet] = {}
    for element, child in fields.children.items():
        child_type: Type | None = None
        if element[0] == "f" and map_type is not None:
            name = element[2:]
            declared = map_type.field(name)
            if declared is not None:
                members.add(element)
                child_type = declared
            else:
                child_type = map_type.element
        elif element[0] == "k":
            child_type = list_element
        children[element] = ensure_named_fields_are_members(child, child_type)
    return FieldSet(members, children)


def _map_of(typ: Type | None) -> MapType | None:
    if typ is None:
        return None
    if typ.kind == MAP:
        assert isinstance(typ, MapType)
        return typ
    if typ.kind == UNTYPED:
        assert isinstance(typ, UntypedType)
        resolved = resolve(typ, {})
        assert isinstance(resolved, MapType)
        return resolved
    return None


def _list_element_of(typ: Type | None) -> Type | None:
    if typ is None:
        return None
    if typ.kind == LIST:
        assert isinstance(typ, ListType)
        return typ.element
    if typ.kind == UNTYPED:
        resolved = resolve(typ, [])
        assert isinstance(resolved, ListType)
        return resolved.element
    return None


def path_type(root: Type, path: Path) -> Type | None:
    """The type at a path (None when the path leaves the schema)."""
    typ: Type | None = root
    for element in path:
        if typ is None:
            return None
        if element[0] == "f":
            map_type = _map_of(typ)
            typ = map_type.child(element[2:]) if map_type is not None else None
        else:
            typ = _list_element_of(typ)
    return typ
