"""JSON patch (RFC 6902, application/json-patch+json): a list of operations (add, remove, replace,
move, copy, test) on paths written as JSON pointers (RFC 6901).

Kubernetes applies these with evanphx/json-patch v4, and this module follows it where it is more
lenient than the RFC, since clients written against Kubernetes rely on that: `replace` of a missing
object member adds it, `test` of a missing member against null passes, negative array indices count
from the end. (It does not copy null from a missing member: `copy` needs its source, as the RFC
says.) Error messages are worded as that library words them, e.g.
`add operation does not apply: doc is missing path: "/spec/foo": missing value`."""

from __future__ import annotations

import re

from podplane.apimachinery.json_types import JSONList, JSONObject, JSONValue
from podplane.apimachinery.patch.mergepatch import (
    BAD_REQUEST,
    ENTITY_TOO_LARGE,
    PatchError,
    copy_json,
    json_equal,
    json_type,
)

# Kubernetes refuses longer patches (apiserver/pkg/endpoints/handlers/patch.go).
MAX_OPERATIONS = 10000

_INDEX = re.compile(r"[+-]?[0-9]+")
_MISSING = "missing value"
_INVALID_INDEX = "invalid index referenced"

Container = JSONObject | JSONList


def apply_json_patch(document: JSONValue, operations: JSONValue) -> JSONValue:
    """Applies the operations in order and returns the patched document. `operations` is the
    request body as parsed JSON. The document is not modified; the result shares the containers no
    operation changed with it."""
    if operations is None:  # JSON null decodes to an empty patch
        operations = []
    if not isinstance(operations, list):
        raise PatchError(
            f"json: cannot unmarshal {json_type(operations)} into Go value of type jsonpatch.Patch",
            BAD_REQUEST,
        )
    for op in operations:
        if not isinstance(op, dict):
            raise PatchError(
                f"json: cannot unmarshal {json_type(op)} into Go value of type jsonpatch.Operation",
                BAD_REQUEST,
            )
    if len(operations) > MAX_OPERATIONS:
        raise PatchError(
            f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, "
            f"got {len(operations)}",
            ENTITY_TOO_LARGE,
        )
    doc = _Document(document)
    for op in operations:
        kind = op.get("op")
        apply_op = _OPERATIONS.get(kind) if isinstance(kind, str) else None
        if apply_op is None:
            raise PatchError(f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}")
        apply_op(doc, op)
    return doc.root


# ---------------------------------------------------------------- pointers


class _Document:
    """The document being patched, copied on write: an operation that changes a container copies
    it, and the containers above it, the first time; the rest stays shared with the input."""

    def __init__(self, root: JSONValue) -> None:
        self._owned: dict[int, Container] = {}
        self.root = self._own(root) if isinstance(root, (dict, list)) else root

    def _own(self, node: Container) -> Container:
        copy: Container = dict(node) if isinstance(node, dict) else list(node)
        self._owned[id(copy)] = copy  # held, so that its id is not reused meanwhile
        return copy

    def replace_root(self, value: Container) -> None:
        self._owned[id(value)] = value
        self.root = value

    def find(self, path: str, write: bool) -> tuple[Container, str] | None:
        """The container holding the pointer's last token, and that token; None when a token
        before it does not resolve to an object or array (evanphx's findObject). With `write`,
        the container is the document's own copy."""
        tokens = path.split("/")
        if len(tokens) < 2 or tokens[0] != "":
            return None
        node = self.root
        for token in tokens[1:-1]:
            key = _unescape(token)
            if isinstance(node, dict):
                child = node.get(key)
                if write and isinstance(child, (dict, list)) and id(child) not in self._owned:
                    child = node[key] = self._own(child)
            elif isinstance(node, list):
                try:
                    index = _existing_index(node, key)
                except PatchError:
                    return None
                child = node[index]
                if write and isinstance(child, (dict, list)) and id(child) not in self._owned:
                    child = node[index] = self._own(child)
            else:
                return None
            if child is None:
                return None
            node = child
        if not isinstance(node, (dict, list)):
            return None
        return node, _unescape(tokens[-1])


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~") if "~" in token else token


def _parse_index(key: str) -> int:
    if not _INDEX.fullmatch(key):
        raise PatchError(f'strconv.Atoi: parsing "{key}": invalid syntax')
    return int(key)


def _existing_index(array: JSONList, key: str) -> int:
    index = _parse_index(key)
    if index < 0:
        if index < -len(array):
            raise PatchError(f"Unable to access invalid index: {index}: {_INVALID_INDEX}")
        index += len(array)
    if index >= len(array):
        raise PatchError(f"Unable to access invalid index: {index}: {_INVALID_INDEX}")
    return index


def _get(container: Container, key: str) -> JSONValue:
    """The value at key; a missing object member reads as None, as in evanphx."""
    if isinstance(container, dict):
        return container.get(key)
    return container[_existing_index(container, key)]


def _add(container: Container, key: str, value: JSONValue) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    if key == "-":
        container.append(value)
        return
    if not _INDEX.fullmatch(key):
        raise PatchError(
            f"value was not a proper array index: '{key}': "
            f'strconv.Atoi: parsing "{key}": invalid syntax'
        )
    index, size = int(key), len(container) + 1
    if index >= size or index < -size:
        raise PatchError(f"Unable to access invalid index: {index}: {_INVALID_INDEX}")
    container.insert(index + size if index < 0 else index, value)


def _remove(container: Container, key: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise PatchError(f"Unable to remove nonexistent key: {key}: {_MISSING}")
        del container[key]
    else:
        del container[_existing_index(container, key)]


# ---------------------------------------------------------------- operations


def _path(op: JSONObject, kind: str, field: str = "path") -> str:
    value = op.get(field)
    if not isinstance(value, str):
        raise PatchError(f"{kind} operation failed to decode {field}: {_MISSING}")
    return value


def _wrapped(prefix: str, err: PatchError) -> PatchError:
    return PatchError(f"{prefix}: {err.message}")


def _op_add(doc: _Document, op: JSONObject) -> None:
    path = _path(op, "add")
    found = doc.find(path, write=True)
    if found is None:
        raise PatchError(f'add operation does not apply: doc is missing path: "{path}": {_MISSING}')
    try:
        _add(*found, copy_json(op.get("value")))
    except PatchError as err:
        raise _wrapped(f"error in add for path: '{path}'", err) from None


def _op_remove(doc: _Document, op: JSONObject) -> None:
    path = _path(op, "remove")
    found = doc.find(path, write=True)
    if found is None:
        raise PatchError(
            f'remove operation does not apply: doc is missing path: "{path}": {_MISSING}'
        )
    try:
        _remove(*found)
    except PatchError as err:
        raise _wrapped(f"error in remove for path: '{path}'", err) from None


def _op_replace(doc: _Document, op: JSONObject) -> None:
    path = _path(op, "replace")
    value = copy_json(op.get("value"))
    if path == "":
        if not isinstance(value, (dict, list)):
            raise PatchError("replace operation value must be object or array")
        doc.replace_root(value)
        return
    found = doc.find(path, write=True)
    if found is None:
        raise PatchError(
            f"replace operation does not apply: doc is missing path: {path}: {_MISSING}"
        )
    container, key = found
    if isinstance(container, dict):
        container[key] = value
        return
    try:
        index = _existing_index(container, key)
    except PatchError:
        raise PatchError(
            f"replace operation does not apply: doc is missing key: {path}: {_MISSING}"
        ) from None
    container[index] = value


def _op_move(doc: _Document, op: JSONObject) -> None:
    source = _path(op, "move", "from")
    found = doc.find(source, write=True)
    if found is None:
        raise PatchError(
            f"move operation does not apply: doc is missing from path: {source}: {_MISSING}"
        )
    container, key = found
    try:
        value = _get(container, key)
        _remove(container, key)
    except PatchError as err:
        raise _wrapped(f"error in move for path: '{key}'", err) from None
    path = _path(op, "move")
    target = doc.find(path, write=True)
    if target is None:
        raise PatchError(
            f"move operation does not apply: doc is missing destination path: {path}: {_MISSING}"
        )
    try:
        _add(*target, value)
    except PatchError as err:
        raise _wrapped(f"error in move for path: '{path}'", err) from None


def _op_copy(doc: _Document, op: JSONObject) -> None:
    source = _path(op, "copy", "from")
    found = doc.find(source, write=False)
    # evanphx copies null from a missing object member; the RFC says the source must exist.
    if found is None or (isinstance(found[0], dict) and found[1] not in found[0]):
        raise PatchError(
            f"copy operation does not apply: doc is missing from path: {source}: {_MISSING}"
        )
    try:
        value = _get(*found)
    except PatchError as err:
        raise _wrapped(f"error in copy for from: '{source}'", err) from None
    path = _path(op, "copy")
    target = doc.find(path, write=True)
    if target is None:
        raise PatchError(
            f"copy operation does not apply: doc is missing destination path: {path}: {_MISSING}"
        )
    try:
        _add(*target, copy_json(value))
    except PatchError as err:
        raise _wrapped("error while adding value during copy", err) from None


def _op_test(doc: _Document, op: JSONObject) -> None:
    path = _path(op, "test")
    expected = op.get("value")
    if path == "":
        actual = doc.root
    else:
        found = doc.find(path, write=False)
        if found is None:
            raise PatchError(f"test operation does not apply: is missing path: {path}: {_MISSING}")
        try:
            actual = _get(*found)
        except PatchError as err:
            raise _wrapped(f"error in test for path: '{path}'", err) from None
    if not json_equal(actual, expected):
        raise PatchError(f"testing value {path} failed: test failed")


_OPERATIONS = {
    "add": _op_add,
    "remove": _op_remove,
    "replace": _op_replace,
    "move": _op_move,
    "copy": _op_copy,
    "test": _op_test,
}
