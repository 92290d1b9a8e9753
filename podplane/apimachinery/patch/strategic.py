"""Strategic merge patch (application/strategic-merge-patch+json), applied as
k8s.io/apimachinery/pkg/util/strategicpatch applies it on the server.

A JSON merge patch whose lists follow the schema (patchschema.py): a list with patch strategy
"merge" merges its elements by the merge key (containers by name) or, for primitives, as a set;
other lists are replaced whole; maps merge, null deletes. Directives in the patch:
  {"$patch": "replace"} / {"$patch": "delete"}   on a map: replace it with the rest of the patch,
                                                  or clear it
  [{"name": "x", "$patch": "delete"}]             in a merged list: delete the element named x
  [{"$patch": "replace"}, ...]                    in a merged list: replace the list with the rest
  "$deleteFromPrimitiveList/finalizers": [...]    delete these values from a primitive list
  "$setElementOrder/containers": [{"name": ..}]   the order of the merged list's elements
  "$retainKeys": [...]                            drop the map's keys not listed (union types)
Errors are worded as Kubernetes words them; see PatchError for the status codes."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from podplane.apimachinery.json_types import JSONList, JSONObject, JSONValue
from podplane.apimachinery.patch.mergepatch import (
    BAD_REQUEST,
    PatchError,
    bad_arg_type,
    bad_patch_type,
    go_format,
    json_equal,
    json_key,
    json_type,
    no_merge_key,
)
from podplane.apimachinery.patch.schema import (
    DELETE,
    DELETE_FROM_PRIMITIVE_LIST,
    DIRECTIVE,
    MERGE,
    REPLACE,
    RETAIN_KEYS_DIRECTIVE,
    SET_ELEMENT_ORDER,
    PatchMeta,
    PatchSchema,
)
from podplane.apimachinery.patch.strategic_order import (
    check_order,
    go_aliased_order,
    normalize_order,
    partition,
)

# k8s.io/apimachinery/pkg/util/mergepatch's errors for a malformed patch (answered with 400).
BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"


@dataclass(frozen=True, slots=True)
class MergeOptions:
    # Apply the parallel lists ($deleteFromPrimitiveList, $setElementOrder, $retainKeys) rather
    # than carry them over: true when applying, false when merging two patches into one.
    merge_parallel_list: bool
    # A null for a key the original lacks is dropped (applying), not kept (merging patches).
    ignore_unmatched_nulls: bool


APPLY = MergeOptions(merge_parallel_list=True, ignore_unmatched_nulls=True)


def strategic_merge_patch(
    original: JSONObject, patch: JSONValue, schema: PatchSchema
) -> JSONObject:
    """Applies a strategic merge patch to an object's JSON, e.g.
    strategic_merge_patch(pod_json, patch, proto_schema(core_pb2.Pod.DESCRIPTOR)).
    Neither argument is modified; the result shares unchanged values with them."""
    if not isinstance(patch, dict):
        raise PatchError(
            f"json: cannot unmarshal {json_type(patch)} into Go value of type "
            "map[string]interface {}",
            BAD_REQUEST,
        )
    return merge_map(original, patch, schema, APPLY)


def merge_map(
    original: JSONObject | None, patch: JSONObject, schema: PatchSchema, options: MergeOptions
) -> JSONObject:
    """Merges `patch` into a copy of `original` (Kubernetes' mergeMap)."""
    if DIRECTIVE in patch:
        return _map_directive(patch[DIRECTIVE], patch)
    result: JSONObject = {} if original is None else dict(original)
    patch = dict(patch)  # the directives are consumed from it
    if RETAIN_KEYS_DIRECTIVE in patch:
        _apply_retain_keys(result, patch, options)
    if any(key.startswith(SET_ELEMENT_ORDER) for key in patch):
        _merge_ordered_lists(result, patch, schema, options)

    for key, value in patch.items():
        delete_list = False
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            if not options.merge_parallel_list:
                result[key] = value
                continue
            key = _directive_target(key, DELETE_FROM_PRIMITIVE_LIST, BAD_PRIMITIVE_LIST)
            delete_list = True
        if value is None:
            result.pop(key, None)
            if options.ignore_unmatched_nulls:
                continue
        if key not in result or json_type(result[key]) != json_type(value):
            if not delete_list:
                _put_patch_value(result, key, value, options.ignore_unmatched_nulls)
            continue
        current = result[key]
        if isinstance(current, dict):
            meta = schema.lookup(key)
            result[key] = (
                value
                if meta.strategy == REPLACE
                else merge_map(current, value, meta.schema, options)
            )
        elif isinstance(current, list):
            meta = schema.lookup(key)
            if meta.strategy == MERGE or delete_list:
                result[key] = merge_list(current, value, meta, options, key, delete_list)
            else:
                result[key] = value
        else:
            result[key] = value
    return result


def _map_directive(directive: JSONValue, patch: JSONObject) -> JSONObject:
    if directive == REPLACE:
        return {k: v for k, v in patch.items() if k != DIRECTIVE}
    if directive == DELETE:
        return {}
    raise bad_patch_type(directive, patch)


def _put_patch_value(result: JSONObject, key: str, value: JSONValue, discard_nulls: bool) -> None:
    """A value the original lacks (or of another type) is taken from the patch, without its
    directives (and, when applying, without its nulls)."""
    cleaned, keep = remove_directives(value, discard_nulls)
    if keep:
        result[key] = cleaned
    else:
        result.pop(key, None)


def remove_directives(value: JSONValue, discard_nulls: bool = False) -> tuple[JSONValue, bool]:
    """The value without the maps that carry $patch (and, if asked, without null members); the
    flag is false when the value itself carries $patch."""
    if isinstance(value, dict):
        if DIRECTIVE in value and not (discard_nulls and value[DIRECTIVE] is None):
            return None, False
        out = {}
        for k, v in value.items():
            if v is None and discard_nulls:
                continue
            cleaned, keep = remove_directives(v, discard_nulls)
            if keep:
                out[k] = cleaned
        return out, True
    if isinstance(value, list):
        items = []
        for v in value:
            cleaned, keep = remove_directives(v, discard_nulls)
            if keep:
                items.append(cleaned)
        return items, True
    return value, True


def _directive_target(key: str, prefix: str, error: str) -> str:
    """The field a parallel-list directive is about: "$setElementOrder/containers" ->
    "containers"."""
    head, sep, field = key.partition("/")
    if not sep or head != prefix:
        raise PatchError(error, BAD_REQUEST)
    return field


def _apply_retain_keys(result: JSONObject, patch: JSONObject, options: MergeOptions) -> None:
    retain = patch.pop(RETAIN_KEYS_DIRECTIVE)
    if not options.merge_parallel_list:
        if RETAIN_KEYS_DIRECTIVE not in result:
            result[RETAIN_KEYS_DIRECTIVE] = retain
        elif not json_equal(result[RETAIN_KEYS_DIRECTIVE], retain):
            raise PatchError(
                f"{go_format(result[RETAIN_KEYS_DIRECTIVE])} and {go_format(retain)} "
                "are not deep equal: this may happen when calculating the 3-way "
                "diff patch"
            )
        return
    if not isinstance(retain, list):
        raise PatchError(BAD_RETAIN_KEYS, BAD_REQUEST)
    kept = {k for k in retain if isinstance(k, str)}
    for key, value in patch.items():
        if (
            value is not None
            and key not in kept
            and not key.startswith(DELETE_FROM_PRIMITIVE_LIST)
            and not key.startswith(SET_ELEMENT_ORDER)
        ):
            raise PatchError(BAD_RETAIN_KEYS, BAD_REQUEST)
    for key in [k for k in result if k not in kept]:
        del result[key]


def _merge_ordered_lists(
    result: JSONObject, patch: JSONObject, schema: PatchSchema, options: MergeOptions
) -> None:
    """Merges each list named by a $setElementOrder directive and orders it: the directive's order
    first, then the patch's, then the original's (Kubernetes' mergePatchIntoOriginal)."""
    for directive in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(directive)
        if not options.merge_parallel_list:
            if directive not in result:
                result[directive] = order
            elif not json_equal(result[directive], order):
                raise PatchError(BAD_SET_ELEMENT_ORDER, BAD_REQUEST)
        if not isinstance(order, list):
            raise bad_arg_type("[]interface {}", order)
        field = _directive_target(directive, SET_ELEMENT_ORDER, BAD_SET_ELEMENT_ORDER)
        original_list, patch_list = result.get(field), patch.get(field)
        for found, value in ((field in result, original_list), (field in patch, patch_list)):
            if found and not isinstance(value, list):
                raise bad_arg_type("[]interface {}", value)
        meta = schema.lookup(field)
        check_order(patch_list or [], order, meta.merge_key)
        if original_list is not None and patch_list is not None:
            merged = (
                merge_list(original_list, patch_list, meta, options, field)
                if meta.strategy == MERGE
                else patch_list
            )
        elif patch_list is not None:
            merged = remove_directives(patch_list)[0]
        elif original_list is not None:
            merged = original_list
        else:
            continue
        in_order, server_only = partition(merged, order, meta.merge_key)
        kind = element_type(original_list or [], patch_list or [])
        server_order = original_list or []
        if kind == "object" and patch_list and meta.strategy == MERGE:
            server_order = go_aliased_order(server_order, patch_list, meta.merge_key)
        result[field] = normalize_order(
            in_order, server_only, order, server_order, meta.merge_key, kind
        )
        patch.pop(field, None)


# ---------------------------------------------------------------- lists


def merge_list(
    original: JSONList,
    patch: JSONList,
    meta: PatchMeta,
    options: MergeOptions,
    field: str,
    delete_list: bool = False,
) -> JSONList:
    """Merges two lists of a field with strategy "merge" (Kubernetes' mergeSlice): maps by their
    merge key, primitives as a set; the patch's elements keep the patch's order and the
    original's other elements are woven in where they stood."""
    merge_key = meta.merge_key
    if not original and not patch:
        return original
    kind = element_type(original, patch)
    if kind != "object":
        if options.merge_parallel_list and delete_list:
            doomed = {json_key(v) for v in patch}
            return [v for v in original if json_key(v) not in doomed]
        merged = _deduplicate(original + patch)
    else:
        if not merge_key:
            raise PatchError(f"cannot merge lists without merge key for {field}")
        original, patch = _list_directives(original, patch, merge_key)
        merged = _merge_by_key(original, patch, merge_key, meta.schema, options)
    in_patch, server_only = partition(merged, patch, merge_key)
    return normalize_order(in_patch, server_only, patch, original, merge_key, kind)


def _list_directives(
    original: JSONList, patch: JSONList, merge_key: str
) -> tuple[JSONList, JSONList]:
    """Applies the elements that carry $patch: delete removes every element with that key, replace
    makes the rest of the patch the whole list. Returns the original and the plain patch."""
    plain = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == DELETE:
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            doomed = json_key(item[merge_key])
            original = [
                o for o in original if not (merge_key in o and json_key(o[merge_key]) == doomed)
            ]
        elif directive == REPLACE:
            replace = True
        elif directive == MERGE:
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise bad_patch_type(directive, item)
    if replace:
        return plain, []
    return original, plain


def _merge_by_key(
    original: JSONList,
    patch: JSONList,
    merge_key: str,
    schema: PatchSchema,
    options: MergeOptions,
) -> JSONList:
    merged = list(original)
    positions: dict[Hashable, int] = {}
    for i, item in enumerate(merged):
        if merge_key in item:
            positions.setdefault(json_key(item[merge_key]), i)
    for item in patch:
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
        key = json_key(item[merge_key])
        at = positions.get(key)
        if at is None:
            positions[key] = len(merged)
            merged.append(item)
        else:
            merged[at] = merge_map(merged[at], item, schema, options)
    return merged


def _deduplicate(items: JSONList) -> JSONList:
    seen: set[Hashable] = set()
    out = []
    for item in items:
        key = json_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def element_type(*lists: JSONList) -> str:
    """The one JSON type of the lists' elements; lists of lists, lists of mixed types and empty
    lists are errors (Kubernetes' sliceElementType)."""
    found = ""
    for items in lists:
        for item in items:
            kind = json_type(item)
            if not found:
                if kind == "array":
                    raise PatchError("lists of lists are not supported")
                found = kind
            elif kind != found:
                raise PatchError(f"list element types are not identical: {go_format(list(lists))}")
    if not found:
        raise PatchError("no elements in any of the given slices")
    return found
