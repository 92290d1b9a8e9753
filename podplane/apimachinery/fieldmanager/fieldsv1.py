"""A FieldSet in the FieldsV1 format a ManagedFieldsEntry carries (fieldpath/serialize.go): a JSON
object whose keys are path elements, each holding the set under it; `"."` marks an element that
is itself a member as well as the parent of others, and an empty object a member alone:

    {"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{}}}

Written byte for byte as Kubernetes writes it (elements sorted as structured-merge-diff orders
them, `.` first, keys escaped as Go escapes them), so a client comparing the text sees no
difference between this server's sets and Kubernetes'."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from types import MemberDescriptorType

from podplane.apimachinery.fieldmanager import gojson
from podplane.apimachinery.fieldmanager.fieldpath import FieldSet, order, parse_element
from podplane.apimachinery.json_types import JSONObject


class FieldsError(ValueError):
    """FieldsV1 text that is not a set of paths."""


# Each element as a JSON key, written once: the same elements (f:spec, f:containers) make up
# nearly every set.
_KEYS: dict[str, str] = {}
_MAX_KEYS = 1 << 16


def _key(element: str) -> str:
    found = _KEYS.get(element)
    if found is None:
        if len(_KEYS) >= _MAX_KEYS:
            _KEYS.clear()
        found = _KEYS[element] = gojson.string(element)
    return found


def dumps(fields: FieldSet) -> str:
    """The set as FieldsV1 JSON text."""
    if fields.empty():
        return "{}"
    out: list[str] = ["{"]
    _emit(fields, False, out)
    out.append("}")
    return "".join(out)


def element_texts(fields: FieldSet) -> dict[str, str]:
    """Each top-level element of the set as dumps writes it between the set's braces
    (`"f:spec":{...}`), by element: join puts them back together."""
    members, children = fields.members, fields.children
    out: dict[str, str] = {}
    for element in members:
        if element not in children:
            out[element] = _key(element) + ":{}"
    for element, child in children.items():
        parts = [_key(element), ":{"]
        _emit(child, element in members, parts)
        parts.append("}")
        out[element] = "".join(parts)
    return out


def join(texts: Mapping[str, str]) -> str:
    """The set whose top-level elements are written `texts` (element_texts), as dumps writes
    it: the same bytes."""
    if not texts:
        return "{}"
    return "{" + ",".join([texts[e] for e in sorted(texts, key=order)]) + "}"


def _emit(fields: FieldSet, include_self: bool, out: list[str]) -> None:
    members, children = fields.members, fields.children
    if include_self:
        out.append('".":{},')
    if not children:
        elements = sorted(members, key=order) if len(members) > 1 else members
    else:
        elements = sorted(members | children.keys(), key=order)
    keys = _KEYS
    for element in elements:
        key = keys.get(element)
        if key is None:
            key = _key(element)
        child = children.get(element)
        if child is None:
            out.append(key)
            out.append(":{},")
        else:
            out.append(key)
            out.append(":{")
            _emit(child, element in members, out)
            out.append("},")
    if out[-1].endswith(","):
        out[-1] = out[-1][:-1]


def loads(text: str) -> FieldSet:
    """The set FieldsV1 text holds; FieldsError when it is not one. Elements of a type this
    version does not know are dropped, as structured-merge-diff drops them."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise FieldsError(f"invalid FieldsV1 JSON: {e}") from None
    if not isinstance(document, dict):
        raise FieldsError("FieldsV1 must be a JSON object")
    fields, _ = _read(document)
    return fields if fields is not None else FieldSet()


def _read(node: dict[str, object]) -> tuple[FieldSet | None, bool]:
    """The set under an element's object, and whether the element is itself a member."""
    children: FieldSet | None = None
    is_member = False
    for text, sub in node.items():
        if text == ".":
            is_member = True
            continue
        try:
            element = parse_element(text)
        except ValueError as e:
            raise FieldsError(f"parsing key as path element: {e}") from None
        if element is None:
            continue
        if not isinstance(sub, dict):
            raise FieldsError(f"expected an object under {text!r}")
        grandchildren, child_is_member = _read(sub)
        if child_is_member or grandchildren is not None:
            if children is None:
                children = FieldSet()
            if child_is_member:
                children.members.add(element)
            if grandchildren is not None:
                existing = children.children.get(element)
                children.children[element] = (
                    grandchildren if existing is None else existing.union(grandchildren)
                )
    if children is None:
        is_member = True
    return children, is_member


# ---------------------------------------------------------------- read as needed

_MEMBERS: MemberDescriptorType = FieldSet.__dict__["members"]
_CHILDREN: MemberDescriptorType = FieldSet.__dict__["children"]


@functools.lru_cache(maxsize=1 << 14)
def _element(text: str) -> str | None:
    try:
        return parse_element(text)
    except ValueError as e:
        raise FieldsError(f"parsing key as path element: {e}") from None


def _level(node: JSONObject) -> tuple[set[str], dict[str, FieldSet]]:
    members: set[str] = set()
    children: dict[str, FieldSet] = {}
    for text, sub in node.items():
        if text == ".":
            continue
        element = _element(text)
        if element is None:
            continue
        if not isinstance(sub, dict):
            raise FieldsError(f"expected an object under {text!r}")
        if not sub:
            members.add(element)
            continue
        if "." in sub:
            members.add(element)
            if len(sub) == 1:
                continue
        children[element] = _LazyFieldSet(sub)
    return members, children


class _LazyFieldSet(FieldSet):
    """A set read from FieldsV1 one level at a time, as a walk reaches it: an update that
    touches a few fields of an object reads no more of its managers' sets than their paths
    to those fields."""

    __slots__ = ("_node",)

    def __init__(self, node: JSONObject) -> None:  # the base's slots are filled on use
        self._node: JSONObject | None = node

    def _read(self) -> None:
        node = self._node
        if node is not None:
            members, children = _level(node)
            _MEMBERS.__set__(self, members)
            _CHILDREN.__set__(self, children)
            self._node = None

    @property
    def members(self) -> set[str]:  # type: ignore[override]
        if self._node is not None:
            self._read()
        result: set[str] = _MEMBERS.__get__(self)
        return result

    @property
    def children(self) -> dict[str, FieldSet]:  # type: ignore[override]
        if self._node is not None:
            self._read()
        result: dict[str, FieldSet] = _CHILDREN.__get__(self)
        return result


def loads_lazily(text: str) -> FieldSet:
    """The set FieldsV1 text this server wrote holds, read as it is used (a malformed one
    raises FieldsError when the part that is malformed is reached)."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise FieldsError(f"invalid FieldsV1 JSON: {e}") from None
    if not isinstance(document, dict):
        raise FieldsError("FieldsV1 must be a JSON object")
    return _LazyFieldSet(document)
