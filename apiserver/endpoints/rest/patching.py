"""PATCH (k8s.io/apiserver/pkg/endpoints/handlers/patch.go): the patch, of the type its
Content-Type names (JSON patch, JSON merge patch, strategic merge patch), is applied to the
object's current JSON; the result is decoded with the request's field validation and stored as an
update of the object or of its status, through the same registry code an update takes. The patch
is applied again to the latest object when a concurrent write wins the compare-and-swap.

An apply patch (application/apply-patch+yaml: server-side apply) is a configuration the registry
merges into the object by its schema (apiserver/registry/apply.py); it may create the object."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import grpc
from aiohttp import web

from apiserver import errors
from apiserver.endpoints.rest import bodies
from apiserver.endpoints.rest.request import ResourceRequest, truthy
from apiserver.endpoints.rest.status import unsupported_media_type
from apiserver.objects import T
from apiserver.registry.generic.managed_fields import Manager
from apiserver.registry.generic.options import ApplyOptions, PatchOptions
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
# What Kubernetes 1.31 takes (apply-patch+cbor came with 1.32's CBOR, behind a gate).
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)

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


def check_patch_type(content_type: str, resource: Resource) -> None:
    """A 415 for a patch type the resource does not take."""
    if resource.custom and content_type not in CUSTOM_RESOURCE_PATCH_TYPES:
        raise unsupported_media_type(content_type, CUSTOM_RESOURCE_PATCH_TYPES)


def applier(content_type: str, resource: Resource) -> Applier:
    """How a patch of this type applies (not an apply patch: see `patch`)."""
    check_patch_type(content_type, resource)
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
            "server-side apply (application/apply-patch+yaml) of this subresource is not "
            "supported by this server: patch it with another patch type",
        )
    raise unsupported_media_type(content_type, PATCH_TYPES)


def manager_of(request: web.Request) -> Manager:
    """Who writes: the request's fieldManager and its User-Agent."""
    return Manager(request.query.get("fieldManager", ""), request.headers.get("User-Agent", ""))


def force_of(query: Mapping[str, str]) -> bool | None:
    """PatchOptions.force: absent, or a boolean as Kubernetes reads one."""
    return truthy(query["force"]) if "force" in query else None


def patched_object(
    resource: Resource[T],
    current: T,
    apply: Applier,
    patch: JSONValue,
    validation: codec.FieldValidation,
    warnings: list[str],
    pruner: Callable[[T], list[str]] | None = None,
) -> T:
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


async def read_configuration(
    request: web.Request, validation: codec.FieldValidation
) -> tuple[JSONObject, list[str]]:
    """An apply patch's configuration (YAML, or JSON, which YAML reads too), and the warnings a
    key given twice makes (Strict mode refuses it)."""
    raw = await request.read()
    duplicates: list[str] = []
    if raw.lstrip()[:1] in (b"{", b"["):
        try:
            data, duplicates = bodies.parse_json(raw)
        except ValueError as e:
            raise errors.bad_request(f"error decoding YAML: {e}") from None
    else:
        data = bodies.decode_yaml(raw)
    if data is None:
        data = {}  # an empty document: an empty configuration
    if not isinstance(data, dict):
        raise errors.bad_request(
            "error decoding YAML: json: cannot unmarshal "
            f"{codec.json_type_name(data)} into Go value of type map[string]interface {{}}"
        )
    found = [f'duplicate field "{p}"' for p in duplicates]
    if found and validation is codec.FieldValidation.STRICT:
        raise errors.bad_request("error strict decoding YAML: " + ", ".join(found))
    return data, [] if validation is codec.FieldValidation.IGNORE else found


async def patch(
    request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
) -> tuple[T, list[str], bool]:
    """The object as stored after the request's patch, the warnings to answer with, and whether
    the patch created it (an apply may)."""
    resource = api.resource
    content_type = request.content_type
    if content_type not in PATCH_TYPES:
        raise unsupported_media_type(content_type, PATCH_TYPES)
    check_patch_type(content_type, resource)
    validation = bodies.field_validation(request.query)
    dry_run = bodies.dry_run(request.query)
    if content_type == APPLY_PATCH:
        config, warnings = await read_configuration(request, validation)

        def decode(data: JSONObject) -> T:
            obj, _ = bodies.decode_object(resource, data, [], validation, api.unknown_fields)
            return obj

        force = force_of(request.query)
        stored, created = await api.apply(
            req.namespace,
            req.name,
            config,
            decode,
            ApplyOptions(manager_of(request), dry_run=dry_run, force=bool(force)),
            subresource=req.subresource,
        )
        return stored, warnings, created
    apply = applier(content_type, resource)
    patch_body = await read_patch(request)
    if content_type != JSON_PATCH and not isinstance(patch_body, dict):
        raise errors.bad_request(
            f"error decoding patch: a {content_type} patch must be "
            f"an object, got {codec.json_type_name(patch_body)}"
        )
    found: list[str] = []
    options = PatchOptions(
        dry_run=dry_run, manager=manager_of(request), force=force_of(request.query)
    )
    stored = await api.patch(
        req.namespace,
        req.name,
        lambda current: patched_object(
            resource, current, apply, patch_body, validation, found, api.unknown_fields
        ),
        options,
        subresource=req.subresource,
    )
    return stored, found, False
