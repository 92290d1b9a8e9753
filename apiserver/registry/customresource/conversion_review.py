"""A ConversionReview as kube-apiserver sends one to a CRD's conversion webhook and checks the
answer (k8s.io/apiextensions-apiserver/pkg/apiserver/conversion/webhook_converter.go), on
Kubernetes' JSON: the request (a new uid, desiredAPIVersion, the objects not at that version
yet), the answer's ConversionReview kind, uid, result and count, and each converted object's
apiVersion, kind, name, namespace and uid; only its labels and annotations are taken from the
webhook (restoreObjectMeta), the rest of its metadata is the original's. Every refusal is a
`ConversionError` worded as webhook_converter.go words it."""

from __future__ import annotations

import copy
import uuid

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.structural.field import go_quote

GROUP = "apiextensions.k8s.io"
# The ConversionReview versions podplane speaks, as kube-apiserver picks the first of a
# definition's conversionReviewVersions it knows (createConversionReviewObjects).
REVIEW_VERSIONS = ("v1beta1", "v1")


class ConversionError(Exception):
    """A conversion that did not happen; str() is Kubernetes' text."""


def gvk(api_version: str, kind: str) -> str:
    """schema.GroupVersionKind's String(): `group/version, Kind=Kind` (`/v1, Kind=X` for the
    core group)."""
    group, _, version = api_version.rpartition("/")
    return f"{group}/{version}, Kind={kind}"


def review_version(versions: list[str]) -> str:
    """The first of the definition's versions podplane speaks."""
    for v in versions:
        if v in REVIEW_VERSIONS:
            return v
    raise ConversionError("no supported conversion review versions")


def new_request(version: str, objects: list[JSONObject], desired: str) -> tuple[str, JSONObject]:
    uid = str(uuid.uuid4())
    return uid, {
        "kind": "ConversionReview",
        "apiVersion": f"{GROUP}/{version}",
        "request": {"uid": uid, "desiredAPIVersion": desired, "objects": objects},
    }


def converted_objects(version: str, uid: str, answer: JSONObject) -> list[JSONValue]:
    """getConvertedObjectsFromResponse: v1 answers are checked for their kind and uid, v1beta1
    ones are not (as Kubernetes, for compatibility)."""
    if version == "v1":
        got = gvk(str(answer.get("apiVersion") or ""), str(answer.get("kind") or ""))
        expected = gvk(f"{GROUP}/v1", "ConversionReview")
        if got != expected:
            raise ConversionError(f"expected webhook response of {expected}, got {got}")
    response = answer.get("response")
    if not isinstance(response, dict):
        raise ConversionError("no response provided")
    if version == "v1" and response.get("uid", "") != uid:
        got_uid = str(response.get("uid") or "")
        raise ConversionError(f"expected response.uid={go_quote(uid)}, got {go_quote(got_uid)}")
    result = response.get("result")
    result = result if isinstance(result, dict) else {}
    if result.get("status") != "Success":
        if result.get("message"):
            raise ConversionError(str(result["message"]))
        status = result.get("status") or ""
        raise ConversionError(f"response.result.status was '{status}', not 'Success'")
    objects = response.get("convertedObjects")
    return list(objects) if isinstance(objects, list) else []


def _go_type(value: object) -> str:
    """The Go type a JSON value decodes to, as %T prints it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "float64" if isinstance(value, float) else "int64"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def _meta(obj: JSONObject) -> JSONObject:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def validate_converted(original: JSONObject, converted: JSONObject) -> None:
    """validateConvertedObject: the same kind, name, namespace and uid."""
    pairs = (
        ("kind", original.get("kind", ""), converted.get("kind", "")),
        ("name", _meta(original).get("name", ""), _meta(converted).get("name", "")),
        ("namespace", _meta(original).get("namespace", ""), _meta(converted).get("namespace", "")),
        ("UID", _meta(original).get("uid", ""), _meta(converted).get("uid", "")),
    )
    for what, expected, got in pairs:
        if expected != got:
            raise ConversionError(f"must have the same {what}: {expected} != {got}")


def restore_object_meta(original: JSONObject, converted: JSONObject) -> None:
    """restoreObjectMeta: `converted` gets the original's metadata, with the labels and
    annotations the webhook answered (validated when they changed)."""
    if "metadata" not in converted:
        raise ConversionError("missing metadata in converted object")
    answered = converted["metadata"]
    if not isinstance(answered, dict):
        raise ConversionError(f"invalid metadata of type {_go_type(answered)} in converted object")
    restored = copy.deepcopy(_meta(original))
    converted["metadata"] = restored
    for field in ("labels", "annotations"):
        value = answered.get(field)
        if value is None:
            restored.pop(field, None)
            continue
        if not isinstance(value, dict):
            raise ConversionError(
                f"invalid metadata.{field} of type {_go_type(value)} in converted object"
            )
        before = restored.get(field) or {}
        changed = len(before) != len(value)
        for k, v in value.items():
            if not isinstance(v, str):
                raise ConversionError(
                    f"metadata.{field}[{k}] must be a string, but is {_go_type(v)} in converted "
                    "object"
                )
            changed = changed or before.get(k) != v
        if changed:
            errs: list[FieldError] = (
                fields.label_map("metadata.labels", value)
                if field == "labels"
                else fields.annotation_map("metadata.annotation", value)
            )
            if errs:
                text = str(errs[0]) if len(errs) == 1 else "[" + ", ".join(map(str, errs)) + "]"
                raise ConversionError(text)
        restored[field] = value
