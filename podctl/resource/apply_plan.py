"""What `apply` does to an object: create it, or merge the manifest into the live object the way
kubectl's three-way merge does, and say whether that changed anything.

The manifest last applied is kept in the kubectl.kubernetes.io/last-applied-configuration
annotation. A field present in the manifest replaces the live one; a field the last manifest had and
this one dropped is removed; a field neither mentions (server defaults, status, uid, ...) is kept.
Lists of named things (containers, env, volumes, ports, mounts) merge item by item on their key.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Literal

from podplane.apimachinery.json_types import JSONList, JSONObject, JSONValue

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
# What apply never touches: the server's, or the object's identity.
_UNMANAGED = ("apiVersion", "kind", "status", "metadata")
_MANAGED_METADATA = ("labels", "annotations")
_LIST_MERGE_KEYS = ("name", "containerPort", "mountPath")

ApplyAction = Literal["created", "configured", "unchanged"]


@dataclass(frozen=True)
class ApplyPlan:
    action: ApplyAction
    # The object to create or to update with (the live object itself when unchanged).
    body: JSONObject
    # The live object was not created by apply; kubectl warns and patches it anyway.
    missing_last_applied: bool = False


def last_applied_text(desired: JSONObject) -> str:
    return json.dumps(desired, sort_keys=True, separators=(",", ":")) + "\n"


def with_last_applied(desired: JSONObject) -> JSONObject:
    out = copy.deepcopy(desired)
    annotations = out.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[LAST_APPLIED_ANNOTATION] = last_applied_text(desired)
    return out


def _merge_key(items: JSONValue) -> str | None:
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in _LIST_MERGE_KEYS:
        if all(key in i for i in items):
            return key
    return None


def _merge_lists(live: JSONList, last: JSONValue, desired: JSONList, key: str) -> JSONList:
    live_by = {i[key]: i for i in live}
    last_items = (
        [i for i in last if isinstance(i, dict) and key in i] if isinstance(last, list) else []
    )
    last_by = {i[key]: i for i in last_items}
    last_keys = set(last_by)
    desired_keys = {i[key] for i in desired}
    out = [
        merge(live_by[i[key]], last_by.get(i[key]), i) if i[key] in live_by else i for i in desired
    ]
    # Items the server or someone else added are kept; those this manifest dropped are removed.
    out += [i for i in live if i[key] not in desired_keys and i[key] not in last_keys]
    return out


def merge(live: JSONValue, last: JSONValue, desired: JSONValue) -> JSONValue:
    """The three-way merge of one value: `desired` over `live`, minus what `last` had and `desired`
    no longer has."""
    if isinstance(desired, dict) and isinstance(live, dict):
        out = dict(live)
        last_map = last if isinstance(last, dict) else {}
        for key, value in desired.items():
            out[key] = merge(live[key], last_map.get(key), value) if key in live else value
        for key in last_map:
            if key not in desired:
                out.pop(key, None)
        return out
    key = _merge_key(desired)
    if key is not None and isinstance(live, list) and _merge_key(live) == key:
        return _merge_lists(live, last, desired, key)
    return desired


def _managed_metadata(metadata: JSONValue) -> JSONObject:
    if not isinstance(metadata, dict):
        return {}
    return {k: metadata[k] for k in _MANAGED_METADATA if k in metadata}


def plan_apply(desired: JSONObject, live: JSONObject | None) -> ApplyPlan:
    """`desired` is the manifest (namespace filled in); `live` the stored object, None if absent."""
    annotated = with_last_applied(desired)
    if live is None:
        return ApplyPlan("created", annotated)
    last_text = live.get("metadata", {}).get("annotations", {}).get(LAST_APPLIED_ANNOTATION, "")
    try:
        last = json.loads(last_text) if last_text else {}
    except ValueError:
        last = {}
    if not isinstance(last, dict):
        last = {}

    merged = dict(live)
    merged["metadata"] = merge(
        live.get("metadata", {}),
        _managed_metadata(last.get("metadata")),
        _managed_metadata(annotated["metadata"]),
    )
    for key, value in annotated.items():
        if key not in _UNMANAGED:
            merged[key] = merge(live[key], last.get(key), value) if key in live else value
    for key in last:
        if key not in annotated and key not in _UNMANAGED:
            merged.pop(key, None)
    action: ApplyAction = "unchanged" if merged == live else "configured"
    return ApplyPlan(action, merged, missing_last_applied=not last_text)
