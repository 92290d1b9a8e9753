"""Field paths and sets of them, as sigs.k8s.io/structured-merge-diff's fieldpath package has them.

A path element names one step into a value: a field of a map (`f:spec`), the item of a list of
type map by its keys (`k:{"name":"web"}`), the item of a set by its value (`v:80`), or the item of
an atomic list by its index (`i:0`, never produced by the merge itself). An element is held as
that very string, in one canonical form (keys sorted, values written as Go writes them), so two
elements are equal exactly when their strings are, and sets are plain Python sets and dicts.

A FieldSet is a tree: `members` are the paths that end here, `children` the sets under each
element. The same element may be both (a list item owned as a whole and field by field:
`k:{"name":"web"}: {".": {}, "f:image": {}}`). Sets are built once and then only read: the
operations return new sets, which may share unchanged subtrees with their operands. A child set
is never empty (every operation drops the children it empties), which makes emptiness a glance."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping

from podplane.apimachinery.fieldmanager import gojson
from podplane.apimachinery.json_types import JSONValue

Path = tuple[str, ...]


# ---------------------------------------------------------------- path elements


def field(name: str) -> str:
    return "f:" + name


def key(fields: Mapping[str, JSONValue]) -> str:
    """The element of a list-of-type-map item whose key fields have these values."""
    return "k:" + gojson.dumps(dict(fields))


def value(item: JSONValue) -> str:
    """The element of a set item."""
    return "v:" + gojson.dumps(item)


def index(i: int) -> str:
    return f"i:{i}"


def parse_element(text: str) -> str | None:
    """The canonical element a FieldsV1 key spells; None for a type of element this version does
    not know (structured-merge-diff drops those); ValueError for a malformed one."""
    if len(text) < 2:
        raise ValueError("key must be 2 characters long")
    if text[1] != ":":
        raise ValueError(f"missing colon: {text}")
    kind, rest = text[0], text[2:]
    if kind == "f":
        return text
    if kind == "v":
        return value(_json(rest))
    if kind == "k":
        fields = _json(rest)
        if not isinstance(fields, dict):
            raise ValueError(f"expected an object of key fields: {text}")
        return key(fields)
    if kind == "i":
        digits = rest[1:] if rest[:1] in ("+", "-") else rest
        if not digits.isascii() or not digits.isdigit():
            raise ValueError(f'strconv.Atoi: parsing "{rest}": invalid syntax')
        return index(int(rest))
    return None


def _json(text: str) -> JSONValue:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError(f"invalid JSON in path element: {text}") from None


@functools.lru_cache(maxsize=1 << 16)
def order(element: str) -> tuple[object, ...]:
    """The sort key of an element: fields first (by name), then keys, values and indexes, each
    compared as structured-merge-diff compares them (PathElement.Compare)."""
    kind, rest = element[0], element[2:]
    if kind == "f":
        return (0, rest)
    if kind == "k":
        fields = json.loads(rest)
        return (1, tuple((k, _value_order(fields[k])) for k in sorted(fields)))
    if kind == "v":
        return (2, _value_order(json.loads(rest)))
    return (3, int(rest))


def _value_order(item: JSONValue) -> tuple[object, ...]:
    """value.Compare's order: numbers, strings, booleans, lists, maps, null."""
    if item is None:
        return (5,)
    if isinstance(item, bool):
        return (2, item)
    if isinstance(item, (int, float)):
        return (0, item)
    if isinstance(item, str):
        return (1, item)
    if isinstance(item, list):
        return (3, tuple(_value_order(x) for x in item))
    return (4, tuple((k, _value_order(item[k])) for k in sorted(item)))


def show_element(element: str) -> str:
    """The element as a path prints it (PathElement.String): `.spec`, `[name="web"]`,
    `[=80]`, `[0]`."""
    kind, rest = element[0], element[2:]
    if kind == "f":
        return "." + rest
    if kind == "k":
        fields = json.loads(rest)
        return "[" + ",".join(f"{k}={gojson.show(fields[k])}" for k in sorted(fields)) + "]"
    if kind == "v":
        return f"[={gojson.show(json.loads(rest))}]"
    return f"[{rest}]"


def show(path: Iterable[str]) -> str:
    """A path as conflicts name it: `.spec.template.spec.containers[name="web"].image`."""
    return "".join(show_element(e) for e in path)


def make_path(*steps: str | int | Mapping[str, JSONValue]) -> Path:
    """A path from plain steps, for tests and fixed sets: a str is a field name, an int an index,
    a mapping a list item's keys. (A set item's value is written with value().)"""
    out: list[str] = []
    for step in steps:
        if isinstance(step, str):
            out.append(step if step[:2] == "v:" else field(step))
        elif isinstance(step, int):
            out.append(index(step))
        else:
            out.append(key(step))
    return tuple(out)


# ---------------------------------------------------------------- sets


class FieldSet:
    """A set of paths (fieldpath.Set)."""

    __slots__ = ("children", "members")

    def __init__(
        self, members: set[str] | None = None, children: dict[str, FieldSet] | None = None
    ) -> None:
        self.members: set[str] = members if members is not None else set()
        self.children: dict[str, FieldSet] = children if children is not None else {}

    @classmethod
    def of(cls, *paths: Path) -> FieldSet:
        out = cls()
        for path in paths:
            out.insert(path)
        return out

    def insert(self, path: Path) -> None:
        """Adds a path (only while the set is being built)."""
        if not path:
            return
        node = self
        for element in path[:-1]:
            child = node.children.get(element)
            if child is None:
                child = node.children[element] = FieldSet()
            node = child
        node.members.add(path[-1])

    def descend(self, element: str) -> FieldSet:
        """The set under `element`, created if absent (only while the set is being built)."""
        child = self.children.get(element)
        if child is None:
            child = self.children[element] = FieldSet()
        return child

    def has(self, path: Path) -> bool:
        node: FieldSet | None = self
        for element in path[:-1]:
            assert node is not None
            node = node.children.get(element)
            if node is None:
                return False
        return bool(path) and node is not None and path[-1] in node.members

    def with_prefix(self, element: str) -> FieldSet:
        """The paths under `element`, without it."""
        return self.children.get(element) or EMPTY

    def empty(self) -> bool:
        # Sets never hold an empty child: every operation drops the children it empties.
        return not self.members and not self.children

    def __bool__(self) -> bool:
        return not self.empty()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return self.members == other.members and self.children == other.children

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FieldSet({sorted(show(p) for p in self.paths())})"

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every path, in structured-merge-diff's order (Set.Iterate): this level's members, then
        each child's paths, elements sorted."""
        for element in sorted(self.members, key=order):
            yield (*prefix, element)
        for element in sorted(self.children, key=order):
            yield from self.children[element].paths((*prefix, element))

    def union(self, other: FieldSet) -> FieldSet:
        if other.empty():
            return self
        if self.empty():
            return other
        children = dict(self.children)
        for element, theirs in other.children.items():
            mine = children.get(element)
            children[element] = theirs if mine is None else mine.union(theirs)
        return FieldSet(self.members | other.members, children)

    def intersection(self, other: FieldSet) -> FieldSet:
        children: dict[str, FieldSet] = {}
        small, large = (
            (self.children, other.children)
            if len(self.children) <= len(other.children)
            else (other.children, self.children)
        )
        for element, child in small.items():
            theirs = large.get(element)
            if theirs is not None:
                both = child.intersection(theirs)
                if not both.empty():
                    children[element] = both
        return FieldSet(self.members & other.members, children)

    def difference(self, other: FieldSet) -> FieldSet:
        """The paths of this set that are not in `other` (a member of `other` does not remove
        what is under it: see recursive_difference)."""
        if other.empty():
            return self
        children: dict[str, FieldSet] = {}
        for element, child in self.children.items():
            theirs = other.children.get(element)
            if theirs is None:
                children[element] = child
            else:
                rest = child.difference(theirs)
                if not rest.empty():
                    children[element] = rest
        return FieldSet(self.members - other.members, children)

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """The paths of this set neither in `other` nor under one of its members."""
        if other.empty():
            return self
        children: dict[str, FieldSet] = {}
        for element, child in self.children.items():
            if element in other.members:
                continue
            theirs = other.children.get(element)
            if theirs is None:
                children[element] = child
            else:
                rest = child.recursive_difference(theirs)
                if not rest.empty():
                    children[element] = rest
        return FieldSet(self.members - other.members, children)


EMPTY = FieldSet()
