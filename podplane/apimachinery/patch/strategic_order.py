"""Where the elements of a merged list go, in strategic merge patch: the patch's elements in the
patch's order (or its $setElementOrder list's), the live object's other elements woven in where
they stood (Kubernetes' normalizeElementOrder and mergeSortedSlice).

Elements are identified by their merge key, or by value for primitives."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from podplane.apimachinery.json_types import JSONList, JSONValue
from podplane.apimachinery.patch.mergepatch import (
    PatchError,
    bad_arg_type,
    go_format,
    json_key,
    no_merge_key,
)
from podplane.apimachinery.patch.schema import DELETE, DIRECTIVE, REPLACE, SET_ELEMENT_ORDER


def partition(items: JSONList, by: JSONList, merge_key: str) -> tuple[JSONList, JSONList]:
    """The items that appear in `by` (maps by merge key, primitives by value), and the others."""
    inside: JSONList = []
    outside: JSONList = []
    if not merge_key:
        present = {json_key(v) for v in by}
        for item in items:
            (inside if json_key(item) in present else outside).append(item)
        return inside, outside
    keys = set()
    for i, item in enumerate(by):
        if not isinstance(item, dict):
            raise PatchError(f"value for key {i} is not a map")
        if merge_key in item:
            keys.add(json_key(item[merge_key]))
    _check_merge_keys(items, merge_key)
    for item in items:
        (inside if json_key(item[merge_key]) in keys else outside).append(item)
    return inside, outside


def normalize_order(
    in_patch: JSONList,
    server_only: JSONList,
    patch_order: JSONList,
    server_order: JSONList,
    merge_key: str,
    kind: str,
) -> JSONList:
    """Sorts the patch's elements by `patch_order` and the others by `server_order`, then weaves
    them together: a server element goes before a patch element when it stood before it."""
    in_patch = sort_by_order(in_patch, patch_order, merge_key, kind)
    server_only = sort_by_order(server_only, server_order, merge_key, kind)
    if not server_only or not in_patch:
        return in_patch + server_only
    key = _order_key(merge_key, kind)
    positions = _positions(server_order, key)
    out = []
    i = j = 0
    while i < len(server_only) and j < len(in_patch):
        left = positions.get(key(server_only[i]))
        right = positions.get(key(in_patch[j]))
        if left is not None and right is not None and left < right:
            out.append(server_only[i])
            i += 1
        else:
            out.append(in_patch[j])
            j += 1
    return out + in_patch[j:] + server_only[i:]


def sort_by_order(items: JSONList, order: JSONList, merge_key: str, kind: str) -> JSONList:
    """A stable sort of items by where they first appear in `order`; for maps, the elements that
    carry $patch: delete go last (Kubernetes' normalizeSliceOrder)."""
    deletions: JSONList = []
    if kind == "object":
        _check_merge_keys(order, merge_key)
        _check_merge_keys(items, merge_key)
        items, deletions = split_deletions(items)
    key = _order_key(merge_key, kind)
    positions = _positions(order, key)
    ranks = [positions.get(key(item)) for item in items]
    if None not in ranks:
        ordered = [item for _, item in sorted(zip(ranks, items, strict=True), key=_first)]
    else:
        ordered = _insertion_sort(items, ranks)
    return ordered + deletions


def _check_merge_keys(items: JSONList, merge_key: str) -> None:
    for item in items:
        if type(item) is not dict or merge_key not in item:
            if not isinstance(item, dict):
                raise bad_arg_type("map[string]interface {}", item)
            raise no_merge_key(item, merge_key)


def split_deletions(items: JSONList) -> tuple[JSONList, JSONList]:
    """The maps without $patch: delete, and those with it."""
    kept: JSONList = []
    deletions: JSONList = []
    for item in items:
        if not isinstance(item, dict):
            raise bad_arg_type("map[string]interface {}", item)
        if DIRECTIVE in item and item[DIRECTIVE] == DELETE:
            deletions.append(item)
        else:
            kept.append(item)
    if not deletions:
        return items, deletions
    return kept, deletions


def check_order(patch_list: JSONList, order: JSONList, merge_key: str) -> None:
    """The patch list's elements must appear in the $setElementOrder list, in the same order."""
    if not order or not patch_list:
        return
    items = split_deletions(patch_list)[0] if merge_key else patch_list
    i = j = 0
    while i < len(items) and j < len(order):
        if isinstance(items[i], dict) and DIRECTIVE in items[i]:
            i += 1
            continue
        if _same_element(items[i], order[j], merge_key):
            i += 1
        j += 1
    if i < len(items) and j >= len(order):
        raise PatchError(
            f"The order in patch list:\n{go_format(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER} list:\n{go_format(order)}\n"
        )


def go_aliased_order(original: JSONList, patch: JSONList, merge_key: str) -> JSONList:
    """The live list as Kubernetes reads it after merging the patch into it, to order a
    $setElementOrder list: Go deletes elements by shifting the rest left within the shared array,
    and appends new ones into the freed slots. Kept so that the order matches Kubernetes'."""
    view = list(original)
    length = len(view)
    replace = False
    for item in patch:
        if not isinstance(item, dict) or item.get(DIRECTIVE) not in (DELETE, REPLACE):
            continue
        if item[DIRECTIVE] == REPLACE:
            replace = True
            continue
        doomed = json_key(item.get(merge_key))
        i = 0
        while i < length:
            if merge_key in view[i] and json_key(view[i][merge_key]) == doomed:
                view[i : length - 1] = view[i + 1 : length]
                length -= 1
            else:
                i += 1
    if replace:
        return view
    present = {json_key(v[merge_key]) for v in view[:length] if merge_key in v}
    for item in patch:
        if not isinstance(item, dict) or DIRECTIVE in item or merge_key not in item:
            continue
        key = json_key(item[merge_key])
        if key not in present:
            present.add(key)
            if length < len(view):
                view[length] = item
            length += 1
    return view


def _same_element(left: JSONValue, right: JSONValue, merge_key: str) -> bool:
    if not merge_key:
        return json_key(left) == json_key(right)
    for side in (left, right):
        if not isinstance(side, dict):
            raise bad_arg_type("map[string]interface {}", side)
        if merge_key not in side:
            raise no_merge_key(side, merge_key)
    return json_key(left[merge_key]) == json_key(right[merge_key])


def _insertion_sort(items: JSONList, ranks: list[int | None]) -> JSONList:
    """Go's sort.SliceStable (an insertion sort for short lists) with strategicpatch's comparator,
    which calls an element "less" whenever either of the two is missing from the order."""
    pairs = list(zip(ranks, items, strict=True))
    for i in range(1, len(pairs)):
        j = i
        while j > 0:
            a, b = pairs[j][0], pairs[j - 1][0]
            if a is not None and b is not None and not a < b:
                break
            pairs[j], pairs[j - 1] = pairs[j - 1], pairs[j]
            j -= 1
    return [item for _, item in pairs]


def _first(pair: tuple[JSONValue, JSONValue]) -> JSONValue:
    return pair[0]


def _order_key(merge_key: str, kind: str) -> Callable[[JSONValue], Hashable]:
    if kind != "object":
        return json_key

    def merge_key_of(item: JSONValue) -> Hashable:
        if type(item) is not dict:
            return None
        value = item.get(merge_key)
        return value if type(value) is str else json_key(value)

    return merge_key_of


def _positions(order: JSONList, key: Callable[[JSONValue], Hashable]) -> dict[Hashable, int]:
    """Each element's first index in `order`."""
    positions: dict[Hashable, int] = {}
    for i, item in enumerate(order):
        k = key(item)
        if k not in positions:
            positions[k] = i
    return positions
