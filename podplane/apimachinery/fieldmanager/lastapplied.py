"""kubectl's move from client-side to server-side apply (lastappliedmanager.go,
lastappliedupdater.go): the `kubectl.kubernetes.io/last-applied-configuration` annotation
client-side apply keeps says which fields kubectl set, so the first `kubectl apply --server-side`
of such an object may take them without conflicts; and while the annotation is there, each
apply by the manager "kubectl" writes it anew, so a later client-side apply still works."""

from __future__ import annotations

import json

from podplane.apimachinery.fieldmanager import gojson
from podplane.apimachinery.fieldmanager.compare import compare
from podplane.apimachinery.fieldmanager.fieldpath import FieldSet
from podplane.apimachinery.fieldmanager.schema import Type
from podplane.apimachinery.fieldmanager.typed import TypedError, to_field_set, validate
from podplane.apimachinery.json_types import JSONObject, JSONValue

ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
# The most all of an object's annotations may hold (ValidateAnnotationsSize): an annotation
# that would pass it is not written.
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def _annotations(obj: JSONValue) -> dict[str, JSONValue]:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def has_annotation(obj: JSONObject) -> bool:
    return bool(_annotations(obj).get(ANNOTATION))


def allowed_conflicts(live: JSONObject, typ: Type, api_version: str) -> FieldSet | None:
    """The fields the last-applied annotation of `live` set to the values they still have:
    kubectl owned them client-side. None when there is no usable annotation."""
    text = _annotations(live).get(ANNOTATION)
    if not isinstance(text, str) or not text:
        return None
    try:
        last = json.loads(text)
    except ValueError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != api_version:
        return None
    try:
        validate(last, typ)
    except TypedError:
        return None
    fields = to_field_set(last, typ)
    changed = compare(last, live, typ)
    return fields.difference(changed.modified).difference(changed.added).difference(changed.removed)


def build(config: JSONObject) -> str:
    """The annotation an applied configuration makes: itself without the annotation, as JSON
    (what kubectl writes for client-side apply)."""
    metadata = config.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("annotations"), dict):
        annotations = {k: v for k, v in metadata["annotations"].items() if k != ANNOTATION}
        config = {**config, "metadata": {**metadata, "annotations": annotations}}
    return gojson.dumps(config) + "\n"


def with_annotation(obj: JSONObject, value: str) -> JSONObject:
    """A copy of `obj` with the annotation set (left out when the annotations would pass the
    size limit)."""
    metadata = obj.get("metadata")
    meta = dict(metadata) if isinstance(metadata, dict) else {}
    annotations = dict(_annotations(obj))
    annotations[ANNOTATION] = value
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        del annotations[ANNOTATION]
    meta["annotations"] = annotations
    return {**obj, "metadata": meta}
