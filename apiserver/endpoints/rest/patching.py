"""PATCH (k8s.io/apiserver/pkg/endpoints/handlers/patch.go): the patch, of the type its
Content-Type names (JSON patch, JSON merge patch, strategic merge patch), is applied to the
object's current JSON; the result is decoded with the request's field validation and stored as an
update of the object or of its status, through the same registry code an update takes. The patch
is applied again to the latest object when a concurrent write wins the compare-and-swap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from aiohttp import web
from google.protobuf.message import Message

from apiserver import errors
from apiserver.endpoints.rest import bodies
from apiserver.endpoints.rest.request import ResourceRequest
from apiserver.endpoints.rest.status import unsupported_media_type
from apiserver.registry.options import PatchOptions
from apiserver.registry.resource import ResourceAPI
from podplane.apimachinery import codec, json_text
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.patch.jsonpatch import apply_json_patch
from podplane.apimachinery.patch.mergepatch import PatchError, apply_merge_patch
from podplane.apimachinery.patch.schema import proto_schema
from podplane.apimachinery.patch.strategic import strategic_merge_patch
from podplane.apimachinery.resources import Resource

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

# How each patch type makes the patched document from the current one.
Applier = Callable[[JSONObject, JSONValue], JSONValue]


def patch_error(err: PatchError) -> errors.APIError:
    """A patch that is malformed (400) or does not apply to the object (422 Invalid) or is too
    large (413), with the patch library's words."""
    if err.code == 413:
        return errors.APIError(
            grpc.StatusCode.INVALID_ARGUMENT, "RequestEntityTooLarge", err.message
        )
    if err.code == 400:
        return errors.bad_request(err.message)
    return errors.APIError(grpc.StatusCode.INVALID_ARGUMENT, "Invalid", err.message)


# What a custom resource takes: no strategic merge patch, whose merge keys only a built-in
# kind's Go types define (crdHandler's supportedTypes).
CUSTOM_RESOURCE_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)


def applier(content_type: str, resource: Resource) -> Applier:
    if resource.custom and content_type not in CUSTOM_RESOURCE_PATCH_TYPES:
        raise unsupported_media_type(content_type, CUSTOM_RESOURCE_PATCH_TYPES)
    if content_type == JSON_PATCH:
        return apply_json_patch
    if content_type == MERGE_PATCH:
        return apply_merge_patch
    if content_type == STRATEGIC_MERGE_PATCH:
        schema = proto_schema(resource.message.DESCRIPTOR)
        return lambda doc, patch: strategic_merge_patch(doc, patch, schema)
    if content_type == APPLY_PATCH:
        raise errors.APIError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "UnsupportedMediaType",
            "server-side apply (application/apply-patch+yaml) is not "
            "supported by this server: use client-side apply (kubectl apply "
            "without --server-side)",
        )
    raise unsupported_media_type(content_type, PATCH_TYPES)


def patched_object(
    resource: Resource,
    current: Message,
    apply: Applier,
    patch: JSONValue,
    validation: codec.FieldValidation,
    warnings: list[str],
    pruner: Callable[[Message], list[str]] | None = None,
) -> Message:
    """The object the patch makes of `current`; unknown fields the patch brings in are Strict
    mode's errors or else warnings (collected into `warnings`, fresh on each attempt)."""
    document = bodies.encode_object(resource, current)
    try:
        result = apply(document, patch)
    except PatchError as e:
        raise patch_error(e) from None
    obj, found = bodies.decode_object(resource, result, [], validation, pruner)
    warnings[:] = found
    return obj


async def read_patch(request: web.Request) -> JSONValue:
    """The request's patch document (JSON, read as Go reads it)."""
    try:
        return json_text.loads(await request.read())
    except ValueError as e:
        raise errors.bad_request(f"error decoding patch: {e}") from None


async def patch(
    request: web.Request, req: ResourceRequest, api: ResourceAPI[Any]
) -> tuple[Message, list[str]]:
    """The object as stored after the request's patch, and the warnings to answer with."""
    resource = api.resource
    apply = applier(request.content_type, resource)
    patch_body = await read_patch(request)
    if request.content_type != JSON_PATCH and not isinstance(patch_body, dict):
        raise errors.bad_request(
            f"error decoding patch: a {request.content_type} patch must be "
            f"an object, got {codec.json_type_name(patch_body)}"
        )
    validation = bodies.field_validation(request.query)
    warnings: list[str] = []
    stored = await api.patch(
        req.namespace,
        req.name,
        lambda current: patched_object(
            resource, current, apply, patch_body, validation, warnings, api.unknown_fields
        ),
        PatchOptions(dry_run=bodies.dry_run(request.query)),
        subresource=req.subresource,
    )
    return stored, warnings
