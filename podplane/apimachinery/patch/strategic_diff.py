"""Computing strategic merge patches, as kubectl does client-side
(k8s.io/apimachinery/pkg/util/strategicpatch's CreateTwoWayMergePatch and
CreateThreeWayMergePatch): the two-way patch turns one document into another; the three-way patch
is what `kubectl apply` sends, from the last-applied configuration, the new configuration and the
live object, so that fields others set on the live object survive."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import yaml

from podplane.apimachinery.json_types import JSONList, JSONObject, JSONValue
from podplane.apimachinery.patch.mergepatch import (
    PatchError,
    bad_arg_type,
    go_format,
    json_equal,
    json_type,
    no_merge_key,
)
from podplane.apimachinery.patch.schema import (
    DELETE,
    DELETE_FROM_PRIMITIVE_LIST,
    DIRECTIVE,
    MERGE,
    NO_SCHEMA,
    REPLACE,
    RETAIN_KEYS_DIRECTIVE,
    SET_ELEMENT_ORDER,
    PatchSchema,
)
from podplane.apimachinery.patch.strategic import MergeOptions, element_type, merge_map
from podplane.apimachinery.patch.strategic_order import sort_by_order

# Merging the three-way diff's two halves keeps nulls and parallel lists: the result is a patch.
_MERGE_PATCHES = MergeOptions(merge_parallel_list=False, ignore_unmatched_nulls=False)


class ConflictError(PatchError):
    """The new configuration changes a field that was changed differently on the live object."""


@dataclass(frozen=True, slots=True)
class DiffOptions:
    # Add $setElementOrder lists, so the patched lists keep the new configuration's order.
    set_element_order: bool = False
    ignore_changes_and_additions: bool = False
    ignore_deletions: bool = False
    # The map's field has strategy retainKeys: list the keys to keep in $retainKeys.
    build_retain_keys_directive: bool = False


def create_two_way_merge_patch(
    original: JSONObject | None, modified: JSONObject | None, schema: PatchSchema
) -> JSONObject:
    """The patch that yields `modified` when applied to `original`."""
    return diff_maps(original or {}, modified or {}, schema, DiffOptions(set_element_order=True))


def create_three_way_merge_patch(
    original: JSONObject | None,
    modified: JSONObject | None,
    current: JSONObject | None,
    schema: PatchSchema,
    overwrite: bool = False,
) -> JSONObject:
    """kubectl apply's patch: the changes from `current` (the live object) to `modified` (the new
    configuration), without deletions, plus the deletions from `original` (the last applied
    configuration) to `modified`. Unless `overwrite`, raises ConflictError when the patch changes
    a field that was changed differently from `original` to `current`."""
    original, modified, current = original or {}, modified or {}, current or {}
    delta = diff_maps(
        current, modified, schema, DiffOptions(set_element_order=True, ignore_deletions=True)
    )
    deletions = diff_maps(
        original,
        modified,
        schema,
        DiffOptions(set_element_order=True, ignore_changes_and_additions=True),
    )
    patch = merge_map(deletions, delta, schema, _MERGE_PATCHES)
    if not overwrite:
        changed = diff_maps(original, current, schema, DiffOptions())
        if merging_maps_have_conflicts(patch, changed, schema):
            raise ConflictError(
                f"patch:\n{_yaml(patch)}\nconflicts with changes made from "
                f"original to current:\n{_yaml(changed)}\n"
            )
    return patch


def diff_maps(
    original: JSONObject, modified: JSONObject, schema: PatchSchema, options: DiffOptions
) -> JSONObject:
    """The patch from `original` to `modified`: changed and added keys, null for deleted ones,
    $patch: delete elements and parallel lists for merged lists, $retainKeys where asked."""
    patch: JSONObject = {}
    retained = []
    for key, new in modified.items():
        if options.build_retain_keys_directive and new is not None:
            retained.append(key)
        if key not in original:
            if not options.ignore_changes_and_additions:
                patch[key] = new
            continue
        old = original[key]
        if key == DIRECTIVE:
            if not isinstance(old, str) or not isinstance(new, str):
                raise PatchError(f"invalid value for special key: {DIRECTIVE}")
            if old != new:
                patch[key] = new
            continue
        if json_type(old) != json_type(new):
            if not options.ignore_changes_and_additions:
                patch[key] = new
        elif isinstance(old, dict):
            _diff_map_field(key, old, new, patch, schema, options)
        elif isinstance(old, list):
            _diff_list_field(key, old, new, patch, schema, options)
        elif not options.ignore_changes_and_additions and not json_equal(old, new):
            patch[key] = new
    if not options.ignore_deletions:
        for key in original:
            if key not in modified:
                patch[key] = None
    if retained and (
        patch or any(v is not None and k not in modified for k, v in original.items())
    ):
        patch[RETAIN_KEYS_DIRECTIVE] = sort_scalars(retained)
    return patch


def _diff_map_field(
    key: str,
    old: JSONObject,
    new: JSONObject,
    patch: JSONObject,
    schema: PatchSchema,
    options: DiffOptions,
) -> None:
    meta = schema.lookup(key)
    if meta.strategy == REPLACE:
        if not options.ignore_changes_and_additions:
            patch[key] = new
        return
    options = dataclasses.replace(options, build_retain_keys_directive=meta.retain_keys)
    value = diff_maps(old, new, meta.schema, options)
    if value:
        patch[key] = value


def _diff_list_field(
    key: str,
    old: JSONList,
    new: JSONList,
    patch: JSONObject,
    schema: PatchSchema,
    options: DiffOptions,
) -> None:
    meta = schema.lookup(key)
    if meta.strategy != MERGE:
        if not options.ignore_changes_and_additions and not json_equal(old, new):
            patch[key] = new
        return
    options = dataclasses.replace(options, build_retain_keys_directive=meta.retain_keys)
    additions, deletions, order = diff_lists(old, new, meta.schema, meta.merge_key, options)
    if additions:
        patch[key] = additions
    if deletions:
        patch[f"{DELETE_FROM_PRIMITIVE_LIST}/{key}"] = deletions
    if order:
        patch[f"{SET_ELEMENT_ORDER}/{key}"] = order


def diff_lists(
    original: JSONList,
    modified: JSONList,
    schema: PatchSchema,
    merge_key: str,
    options: DiffOptions,
) -> tuple[JSONList, JSONList, JSONList]:
    """For a merged list: the patch list (changed and added elements, then $patch: delete ones),
    the $deleteFromPrimitiveList list and the $setElementOrder list."""
    if not original:
        if not modified or options.ignore_changes_and_additions:
            return [], [], []
        return modified, [], []
    kind = element_type(original, modified)
    if kind == "object":
        changes, deletions = _diff_lists_of_maps(original, modified, schema, merge_key, options)
        changes = sort_by_order(changes, modified, merge_key, kind) + deletions
        order: JSONList = []
        if options.set_element_order and (
            (
                not options.ignore_changes_and_additions
                and (changes or not _same_order(original, modified, merge_key))
            )
            or (not options.ignore_deletions and changes)
        ):
            order = [{merge_key: item[merge_key]} for item in modified]
        return changes, [], order
    additions, removals = _diff_lists_of_scalars(original, modified, options)
    additions = sort_by_order(additions, modified, merge_key, kind)
    order = []
    if options.set_element_order and (
        (not options.ignore_deletions and removals)
        or (not options.ignore_changes_and_additions and not json_equal(original, modified))
    ):
        order = modified
    return additions, removals, order


def _same_order(original: JSONList, modified: JSONList, merge_key: str) -> bool:
    if len(original) != len(modified):
        return False
    for old, new in zip(original, modified, strict=True):
        for item in (old, new):
            if not isinstance(item, dict):
                raise bad_arg_type("map[string]interface {}", item)
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
        if not json_equal(old[merge_key], new[merge_key]):
            return False
    return True


def _diff_lists_of_scalars(
    original: JSONList, modified: JSONList, options: DiffOptions
) -> tuple[JSONList, JSONList]:
    """Walks both lists sorted by their printed form: the values only `modified` has are added,
    those only `original` has deleted."""
    old, new = sort_scalars(original), sort_scalars(modified)
    additions: JSONList = []
    deletions: JSONList = []
    i = j = 0
    while i < len(old) or j < len(new):
        old_text = go_format(old[i]) if i < len(old) else None
        new_text = go_format(new[j]) if j < len(new) else None
        if old_text is not None and old_text == new_text:
            i += 1
            j += 1
        elif old_text is None or (new_text is not None and old_text > new_text):
            if not options.ignore_changes_and_additions:
                additions.append(new[j])
            j += 1
        else:
            if not options.ignore_deletions:
                deletions.append(old[i])
            i += 1
    return additions, go_deduplicate(deletions)


def _diff_lists_of_maps(
    original: JSONList,
    modified: JSONList,
    schema: PatchSchema,
    merge_key: str,
    options: DiffOptions,
) -> tuple[JSONList, JSONList]:
    """Walks both lists sorted by merge key: elements in both are diffed (the diff keeps the merge
    key), those only in `modified` added whole, those only in `original` deleted with $patch."""
    old = _sort_by_merge_key(original, merge_key)
    new = _sort_by_merge_key(modified, merge_key)
    changes: JSONList = []
    deletions: JSONList = []
    i = j = 0
    while i < len(old) or j < len(new):
        old_text = go_format(old[i][merge_key]) if i < len(old) else None
        new_text = go_format(new[j][merge_key]) if j < len(new) else None
        if old_text is not None and old_text == new_text:
            value = diff_maps(old[i], new[j], schema, options)
            if value:
                value[merge_key] = new[j][merge_key]
                changes.append(value)
            i += 1
            j += 1
        elif old_text is None or (new_text is not None and old_text > new_text):
            if not options.ignore_changes_and_additions:
                changes.append(new[j])
            j += 1
        else:
            if not options.ignore_deletions:
                deletions.append({merge_key: old[i][merge_key], DIRECTIVE: DELETE})
            i += 1
    return changes, deletions


def _sort_by_merge_key(items: JSONList, merge_key: str) -> JSONList:
    for item in items:
        if not isinstance(item, dict):
            raise bad_arg_type("map[string]interface {}", item)
        if merge_key not in item:
            raise no_merge_key(item, merge_key)
    return sorted(items, key=lambda item: go_format(item[merge_key]))


def sort_scalars(items: JSONList) -> JSONList:
    """Sorted by printed form, as Kubernetes sorts primitive lists in its diffs."""
    return sorted(items, key=go_format)


def go_deduplicate(items: JSONList) -> JSONList:
    """Kubernetes' deduplicateScalars, which moves the last element into each duplicate's place;
    kept for patches identical to kubectl's."""
    items = list(items)
    last = len(items) - 1
    i = 0
    while i < last:
        j = i + 1
        while j <= last:
            if json_equal(items[i], items[j]):
                items[j] = items[last]
                del items[last]
                last -= 1
            else:
                j += 1
        i += 1
    return items


# ---------------------------------------------------------------- conflicts


def merging_maps_have_conflicts(left: JSONObject, right: JSONObject, schema: PatchSchema) -> bool:
    """Whether two patches set some key differently (Kubernetes' MergingMapsHaveConflicts)."""
    return _conflicts(left, right, schema, "", "")


def _conflicts(
    left: JSONValue, right: JSONValue, schema: PatchSchema, strategy: str, merge_key: str
) -> bool:
    if isinstance(left, dict):
        if not isinstance(right, dict):
            return True
        if DIRECTIVE in left or DIRECTIVE in right:
            if (DIRECTIVE in left) != (DIRECTIVE in right):
                return True
            if not json_equal(left[DIRECTIVE], right[DIRECTIVE]):
                return True
        if strategy == REPLACE:
            return False
        for key, value in left.items():
            if key in (DIRECTIVE, RETAIN_KEYS_DIRECTIVE) or key not in right:
                continue
            sub, sub_strategy, sub_key = NO_SCHEMA, "", ""
            if isinstance(value, (dict, list)):
                meta = schema.lookup(key)
                sub, sub_strategy, sub_key = meta.schema, meta.strategy, meta.merge_key
            if _conflicts(value, right[key], sub, sub_strategy, sub_key):
                return True
        return False
    if isinstance(left, list):
        if not isinstance(right, list):
            return True
        return _lists_conflict(left, right, schema, strategy, merge_key)
    return not json_equal(left, right)


def _lists_conflict(
    left: JSONList, right: JSONList, schema: PatchSchema, strategy: str, merge_key: str
) -> bool:
    kind = element_type(left, right)
    if strategy == MERGE:
        if kind != "object":
            return False  # merged primitive lists never conflict
        left_by_key = _by_merge_key(left, merge_key)
        right_by_key = _by_merge_key(right, merge_key)
        return any(
            _conflicts(value, right_by_key[key], schema, "", "")
            for key, value in left_by_key.items()
            if key in right_by_key
        )
    if len(left) != len(right):
        return True
    if kind != "object":
        left = sort_scalars(go_deduplicate(left))
        right = sort_scalars(go_deduplicate(right))
        if len(left) != len(right):
            return True
    return any(_conflicts(a, b, schema, "", "") for a, b in zip(left, right, strict=True))


def _by_merge_key(items: JSONList, merge_key: str) -> JSONObject:
    out = {}
    for item in items:
        if not isinstance(item, dict):
            raise PatchError(f"invalid element type in merging list:{go_format(items)}")
        if merge_key not in item:
            raise PatchError(
                f"cannot find merge key `{merge_key}` in merging list element:{go_format(item)}"
            )
        out[go_format(item[merge_key])] = item
    return out


def _yaml(value: JSONValue) -> str:
    return yaml.safe_dump(value, default_flow_style=False)
