"""A mutating webhook's patch applied to the object, as the mutating dispatcher applies it
(k8s.io/apiserver/pkg/admission/plugin/webhook/mutating/dispatcher.go): an empty patch changes
nothing, a patch for a request without an object (a DELETE) or one that does not apply refuses
the request with an internal error, and only JSONPatch is accepted. The operations are applied by
podplane's JSON patch (podplane.apimachinery.patch.jsonpatch), evanphx/json-patch's rules."""

from __future__ import annotations

import json

from apiserver.webhook.admission_review import JSON_PATCH, AdmissionResponse, to_status_error
from apiserver.webhook.decoding import not_an_object
from apiserver.webhook.errors import StatusError, WebhookCallFailed, internal_error
from podplane.apimachinery.go_json import syntax_error
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.patch.jsonpatch import apply_json_patch
from podplane.apimachinery.patch.mergepatch import PatchError, json_type
from podplane.apimachinery.structural.field import go_quote


def apply_patch(
    webhook_name: str, obj: JSONObject | None, response: AdmissionResponse
) -> JSONObject | None:
    """The object after the response's patch (the same object when there is none); raises
    StatusError (fails the request whatever the failurePolicy) or WebhookCallFailed (an
    unsupported patch type, which the failurePolicy decides on)."""
    if not response.patch:
        return obj
    try:
        operations: JSONValue = json.loads(response.patch)
    except ValueError as e:
        raise StatusError(internal_error(syntax_error(response.patch) or str(e))) from e
    if not isinstance(operations, list):
        kind = json_type(operations)
        message = f"json: cannot unmarshal {kind} into Go value of type jsonpatch.Patch"
        raise StatusError(internal_error(message))
    if not operations:
        return obj
    if obj is None:
        raise StatusError(
            internal_error(
                f"admission webhook {go_quote(webhook_name)} attempted to modify the object, "
                "which is not supported for this operation"
            )
        )
    if response.patch_type != JSON_PATCH:
        raise WebhookCallFailed(
            webhook_name,
            f"unsupported patch type {go_quote(response.patch_type)}",
            to_status_error(webhook_name, response.result).status,
        )
    try:
        patched = apply_json_patch(obj, operations)
    except PatchError as e:
        raise StatusError(internal_error(e.message)) from e
    if not isinstance(patched, dict):
        raise StatusError(internal_error(not_an_object(patched)))
    return patched
