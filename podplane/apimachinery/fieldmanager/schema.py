"""What server-side apply knows of a value's type at each path (structured-merge-diff's schema
package): a scalar; a map, granular (its fields owned one by one: a struct, labels) or atomic
(owned and replaced whole: a LabelSelector); a list, atomic, a set of scalars, or a map of
objects by their key fields (containers by name); or untyped, whose shape is read off the value.

Two implementations build these: one from the protos' `(meta.v1.k8s)` options for every built-in
kind (proto_schema.py) and one from an OpenAPI v3 structural schema, a custom resource's
(openapi_schema.py). The walks over objects (typed.py, compare.py, merge.py) take either."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from podplane.apimachinery.json_types import JSONValue

# The kinds of types.
SCALAR: Final = 0
MAP: Final = 1
LIST: Final = 2
UNTYPED: Final = 3

# A list's type (x-kubernetes-list-type).
ATOMIC: Final = "atomic"
SET: Final = "set"
ASSOCIATIVE: Final = "map"

# Scalar types.
NUMERIC, STRING, BOOLEAN, ANY_SCALAR = "numeric", "string", "boolean", "untyped"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class Type:
    """A type of value. `kind` says which subclass it is (the walks dispatch on it)."""

    __slots__ = ("kind",)

    def __init__(self, kind: int) -> None:
        self.kind = kind


class ScalarType(Type):
    __slots__ = ("scalar",)

    def __init__(self, scalar: str) -> None:
        super().__init__(SCALAR)
        self.scalar = scalar


class MapType(Type):
    """An object: a struct's declared fields, the type of any other key (`element`, None when
    other keys are not allowed), and whether it is atomic. `fields` may be given as a function
    that builds them on first use (a message's, whose fields refer to other messages)."""

    __slots__ = ("_build", "_defaults", "_fields", "atomic", "element")

    def __init__(
        self,
        fields: Mapping[str, Type] | Callable[[], Mapping[str, Type]] = (),  # type: ignore[assignment]
        element: Type | None = None,
        *,
        atomic: bool = False,
        defaults: Mapping[str, JSONValue] | Callable[[], Mapping[str, JSONValue]] = (),  # type: ignore[assignment]
    ) -> None:
        super().__init__(MAP)
        self.element = element
        self.atomic = atomic
        self._build = fields if callable(fields) else None
        self._fields: Mapping[str, Type] | None = None if callable(fields) else dict(fields)
        self._defaults = defaults

    @property
    def fields(self) -> Mapping[str, Type]:
        fields = self._fields
        if fields is None:
            assert self._build is not None
            fields = self._fields = self._build()
        return fields

    def field(self, name: str) -> Type | None:
        """The type of a declared field, None for a key that is not one."""
        return self.fields.get(name)

    def child(self, name: str) -> Type | None:
        """The type of the value at `name`: the field's, or the element type for other keys."""
        found = self.fields.get(name)
        return found if found is not None else self.element

    def default(self, name: str) -> JSONValue:
        """A field's default value (what a list item's missing key is taken to be), or MISSING."""
        defaults = self._defaults
        if callable(defaults):
            defaults = self._defaults = defaults()
        return defaults.get(name, MISSING)

    def with_atomic(self, atomic: bool) -> MapType:
        """This type with another map type, for a field that overrides its type's."""
        if atomic == self.atomic:
            return self
        out = MapType(lambda: self.fields, self.element, atomic=atomic)
        out._defaults = self._defaults
        return out


class ListType(Type):
    __slots__ = ("element", "keys", "list_type")

    def __init__(self, element: Type, list_type: str = ATOMIC, keys: tuple[str, ...] = ()) -> None:
        super().__init__(LIST)
        self.element = element
        self.list_type = list_type
        self.keys = keys


class UntypedType(Type):
    """A value of any shape: a scalar, an atomic list, or a map, atomic (`deduced` False: a
    RawExtension's content) or granular with deduced values (preserved unknown fields)."""

    __slots__ = ("deduced",)

    def __init__(self, deduced: bool) -> None:
        super().__init__(UNTYPED)
        self.deduced = deduced


ANY = ScalarType(ANY_SCALAR)
UNTYPED_ATOMIC = UntypedType(False)
DEDUCED = UntypedType(True)
_ATOMIC_LIST = ListType(UNTYPED_ATOMIC)
_ATOMIC_MAP = MapType({}, UNTYPED_ATOMIC, atomic=True)
_DEDUCED_MAP = MapType({}, DEDUCED)


def resolve(typ: Type, value: JSONValue) -> Type:
    """The type a value takes: an untyped type's shape is the value's (deduceAtom)."""
    if typ.kind != UNTYPED:
        return typ
    assert isinstance(typ, UntypedType)
    if isinstance(value, dict):
        return _DEDUCED_MAP if typ.deduced else _ATOMIC_MAP
    if isinstance(value, list):
        return _ATOMIC_LIST
    return ANY
