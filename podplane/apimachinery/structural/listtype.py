"""x-kubernetes-list-type set and map: the uniqueness of a custom resource's list items
(apiextensions-apiserver pkg/apiserver/schema/listtype): a set's items, or a map's key values,
appear once; each repetition is `Duplicate value` at its index."""

from __future__ import annotations

from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.structural.field import FieldError, child, duplicate, index, invalid, key
from podplane.apimachinery.structural.schema import Structural
from podplane.apimachinery.structural.values import json_marshal


def validate_lists(path: str, s: Structural | None, obj: JSONValue) -> list[FieldError]:
    """ValidateListSetsAndMaps over an object (`path` "" for a whole custom resource)."""
    if s is None or not isinstance(obj, dict):
        return []
    errs: list[FieldError] = []
    additional = s.additional_schema
    if additional is not None:
        for k, v in obj.items():
            errs += _value(key(path, k), additional, v)
    for k, v in obj.items():
        prop = s.properties.get(k)
        if prop is not None:
            errs += _value(child(path, k), prop, v)
    return errs


def _value(path: str, s: Structural, obj: JSONValue) -> list[FieldError]:
    if isinstance(obj, list):
        return _array(path, s, obj)
    if isinstance(obj, dict):
        return validate_lists(path, s, obj)
    return []


def _array(path: str, s: Structural, obj: list[JSONValue]) -> list[FieldError]:
    errs: list[FieldError] = []
    list_type = s.extensions.x_list_type
    if list_type == "set":
        errs += [duplicate(index(path, i), obj[i]) for i in _repeated(obj)]
    elif list_type == "map":
        errs += _list_map(path, s, obj)
    if s.items is not None:
        for i, item in enumerate(obj):
            errs += _value(index(path, i), s.items, item)
    return errs


def _identity(x: JSONValue) -> object:
    """A hashable identity as Go's map keys see it: scalars by type and value, objects and
    arrays by their JSON."""
    if isinstance(x, (dict, list)):
        return ("json", json_marshal(x))
    return (type(x).__name__, x)


def _repeated(values: list[JSONValue]) -> list[int]:
    """The index of each value's second occurrence (validateListSet)."""
    seen: dict[object, int] = {}
    out = []
    for i, x in enumerate(values):
        identity = _identity(x)
        seen[identity] = seen.get(identity, 0) + 1
        if seen[identity] == 2:
            out.append(i)
    return out


_UNSPECIFIED = object()


def _list_map(path: str, s: Structural, obj: list[JSONValue]) -> list[FieldError]:
    for i, x in enumerate(obj):
        if x is not None and not isinstance(x, dict):
            return [invalid(index(path, i), x, "must be an object for an array of list-type map")]
    if len(obj) <= 1:
        return []
    map_keys = s.extensions.x_list_map_keys
    if len(map_keys) == 1:
        name = map_keys[0]
        values = [x[name] if isinstance(x, dict) and name in x else _UNSPECIFIED for x in obj]
        identities = [("unspecified",) if v is _UNSPECIFIED else _identity(v) for v in values]
        errs = []
        for i in _repeated_identities(identities):
            value = {} if values[i] is _UNSPECIFIED else {name: values[i]}
            errs.append(duplicate(index(path, i), value))
        return errs
    keys = [{k: x[k] for k in map_keys if k in x} if isinstance(x, dict) else {} for x in obj]
    return [duplicate(index(path, i), keys[i]) for i in _repeated(list(keys))]


def _repeated_identities(identities: list[object]) -> list[int]:
    seen: dict[object, int] = {}
    out = []
    for i, identity in enumerate(identities):
        seen[identity] = seen.get(identity, 0) + 1
        if seen[identity] == 2:
            out.append(i)
    return out
