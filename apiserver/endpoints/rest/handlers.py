"""The REST door's resource handlers (k8s.io/apiserver/pkg/endpoints/handlers: get, list, create,
update, patch, delete, deletecollection), thin adapters over apiserver.registry.resource's
ResourceAPI: decode the request (path, query, body), call the verb, encode the answer in the form
the client accepts (JSON, a Table, metadata only). Watches are apiserver/endpoints/rest/watch.py's,
subresources apiserver/endpoints/rest/subresources.py's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from apiserver import errors
from apiserver.endpoints.rest import (
    bodies,
    computed,
    patching,
    protobuf_encode,
    subresources,
    watch,
)
from apiserver.endpoints.rest.answers import list_answer, list_protobuf, object_answer
from apiserver.endpoints.rest.filters import parsed
from apiserver.endpoints.rest.negotiation import accepted
from apiserver.endpoints.rest.nonresource import NonResourceHandler
from apiserver.endpoints.rest.request import (
    NonResourceRequest,
    ResourceRequest,
    int64,
    optional_int64,
    truthy,
)
from apiserver.endpoints.rest.responses import (
    REQUEST_WARNINGS,
    json_response,
    protobuf_response,
    yaml_response,
)
from apiserver.endpoints.rest.status import method_not_allowed, not_found_path, success
from apiserver.objects import T, object_meta
from apiserver.registry.generic.options import DeleteOptions, ListOptions, Preconditions
from apiserver.registry.generic.store import Store
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.reviews import CreateOnlyAPI
from apiserver.registry.served import ServedResources
from apiserver.registry.serviceaccount.token import TokenRequests
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONValue
from podplane.apimachinery.openapi.parameters import NO_DELETE_COLLECTION

# The kinds whose delete answers the deleted object rather than a Status (the registry's
# ReturnDeletedObject).
RETURNS_DELETED_OBJECT = frozenset(
    {
        "pods",
        "persistentvolumes",
        "persistentvolumeclaims",
        "storageclasses",
        "csidrivers",
        "csinodes",
        "volumeattachments",
    }
)


def _field(body: Mapping[str, JSONValue], key: str, kind: type, type_name: str) -> JSONValue:
    """A DeleteOptions field of the body, None when absent; another type than Go's is a 400
    naming it (as Go's decoder refuses it)."""
    value = body.get(key)
    boolean_as_int = kind is int and isinstance(value, bool)
    if value is None or (isinstance(value, kind) and not boolean_as_int):
        return value
    raise errors.bad_request(
        f"DeleteOptions.{key}: expected {type_name}, got {codec.json_type_name(value)}"
    )


def delete_options(body: JSONValue, query: Mapping[str, str]) -> DeleteOptions:
    """metav1.DeleteOptions, from the body (kubectl sends one) or the query."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise errors.bad_request("DeleteOptions: expected an object")
    grace = _field(body, "gracePeriodSeconds", int, "integer")
    if grace is None:
        grace = optional_int64(query, "gracePeriodSeconds")
    grace_period_seconds = None if grace is None else int64(grace, "gracePeriodSeconds")
    policy = _field(body, "propagationPolicy", str, "string") or query.get("propagationPolicy", "")
    orphan = _field(body, "orphanDependents", bool, "boolean")
    if orphan is None and "orphanDependents" in query:
        orphan = truthy(query["orphanDependents"])
    if orphan is not None and not policy:
        policy = "Orphan" if orphan else "Background"
    pre = _field(body, "preconditions", dict, "object") or {}
    uid = _field(pre, "uid", str, "string") or ""
    resource_version = _field(pre, "resourceVersion", str, "string") or ""
    preconditions = Preconditions(uid=uid, resource_version=resource_version)
    dry = _field(body, "dryRun", list, "array") or ([query["dryRun"]] if "dryRun" in query else [])
    for value in dry:
        if value != "All":
            raise errors.bad_request(
                f'dryRun: Unsupported value: "{value}": supported values: "All"'
            )
    return DeleteOptions(
        grace_period_seconds=grace_period_seconds,
        preconditions=preconditions,
        propagation_policy=policy,
        dry_run=bool(dry),
    )


async def _delete_options(request: web.Request) -> DeleteOptions:
    body = None
    if request.can_read_body and await request.read():
        body, _ = await bodies.read_document(request)
    return delete_options(body, request.query)


def list_options(query: Mapping[str, str]) -> ListOptions:
    """metav1.ListOptions, from the query."""
    limit = optional_int64(query, "limit") or 0
    return ListOptions(
        label_selector=query.get("labelSelector", ""),
        field_selector=query.get("fieldSelector", ""),
        resource_version=query.get("resourceVersion", ""),
        resource_version_match=query.get("resourceVersionMatch", ""),
        limit=limit,
        continue_=query.get("continue", ""),
    )


class ResourceHandlers:
    """Every resource's handlers, over the verbs of each (`apis`, by plural), and the create of
    each create-only kind (`create_only`, by plural)."""

    def __init__(
        self,
        apis: ServedResources,
        nodes: Store[core_pb2.Node],
        nonresource: NonResourceHandler,
        create_only: Mapping[str, CreateOnlyAPI[Any]],
        tokens: TokenRequests | None = None,
    ) -> None:
        self.apis = apis
        self.nodes = nodes
        self.nonresource = nonresource
        self.create_only = create_only
        self.tokens = tokens

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        req = parsed(request)
        if isinstance(req, NonResourceRequest):
            return await self.nonresource(request, req)
        if req.plural == "bindings" and req.group == "" and req.version == "v1":
            return await subresources.create_binding(request, req, self.apis["pods"], name=None)
        if req.create_only is not None:
            return await self.create_only_object(request, req, self.create_only[req.plural])
        if req.computed is not None:
            return await computed.serve(request, req, self.apis.computed[req.plural])
        api = self.apis.lookup(req.group, req.version, req.plural) if req.resource else None
        if api is None:
            raise not_found_path()
        if api.warnings:
            request[REQUEST_WARNINGS] = api.warnings
        if req.subresource:
            return await subresources.serve(request, req, api, self.apis, self.nodes, self.tokens)
        handler = {
            "get": self.get,
            "list": self.list,
            "watch": self.watch,
            "create": self.create,
            "update": self.update,
            "patch": self.patch,
            "delete": self.delete,
            "deletecollection": self.delete_collection,
        }.get(req.verb)
        if (
            handler is None
            or (req.verb == "create" and req.name)
            or (req.verb == "deletecollection" and api.resource.plural in NO_DELETE_COLLECTION)
            or (api.resource.namespaced and not req.namespace and req.verb not in ("list", "watch"))
        ):
            # Across every namespace (/api/v1/pods) a namespaced kind is only listed and watched.
            raise method_not_allowed(req.method)
        return await handler(request, req, api)

    async def get(
        self, request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
    ) -> web.StreamResponse:
        form = accepted(request.headers.get("Accept", ""), api.resource)
        obj = await api.get(req.namespace, req.name, request.query.get("resourceVersion", ""))
        return object_answer(api.resource, obj, form, request.query, table=api.table)

    async def list(
        self, request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
    ) -> web.StreamResponse:
        q = request.query
        form = accepted(request.headers.get("Accept", ""), api.resource)
        listed = await api.list(req.namespace, list_options(q))
        return list_answer(api.resource, listed, form, q, table=api.table)

    async def watch(
        self, request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
    ) -> web.StreamResponse:
        return await watch.serve_watch(request, req, api)

    async def create(
        self, request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
    ) -> web.StreamResponse:
        form = accepted(request.headers.get("Accept", ""), api.resource)
        data, duplicates = await bodies.read_document(request)
        obj, warnings = bodies.decode_object(
            api.resource,
            data,
            duplicates,
            bodies.field_validation(request.query),
            api.unknown_fields,
        )
        bodies.require_namespace_match(api.resource, obj, req.namespace)
        created = await api.create(
            obj, dry_run=bodies.dry_run(request.query), manager=patching.manager_of(request)
        )
        return object_answer(
            api.resource, created, form, request.query, 201, warnings, table=api.table
        )

    async def create_only_object(
        self, request: web.Request, req: ResourceRequest, api: CreateOnlyAPI[T]
    ) -> web.StreamResponse:
        """A create-only kind's POST: the object decoded as any create's, answered 201 with its
        status filled in."""
        if req.verb != "create":
            raise method_not_allowed(req.method)
        form = accepted(request.headers.get("Accept", ""), api.resource)
        data, duplicates = await bodies.read_document(request)
        obj, warnings = bodies.decode_object(
            api.resource, data, duplicates, bodies.field_validation(request.query)
        )
        bodies.require_namespace_match(api.resource, obj, req.namespace)
        body = bodies.encode_object(api.resource, await api.create(obj))
        if form.protobuf:
            encoded = protobuf_encode.encode_object(
                api.resource.api_version, api.resource.kind, body
            )
            return protobuf_response(encoded, 201, warnings)
        if form.yaml:
            return yaml_response(body, 201, warnings)
        return json_response(body, 201, warnings)

    async def update(
        self, request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
    ) -> web.StreamResponse:
        form = accepted(request.headers.get("Accept", ""), api.resource)
        data, duplicates = await bodies.read_document(request)
        obj, warnings = bodies.decode_object(
            api.resource,
            data,
            duplicates,
            bodies.field_validation(request.query),
            api.unknown_fields,
        )
        bodies.require_name_match(api.resource, obj, req.name)
        bodies.require_namespace_match(api.resource, obj, req.namespace)
        updated = await api.update(
            obj, dry_run=bodies.dry_run(request.query), manager=patching.manager_of(request)
        )
        return object_answer(
            api.resource, updated, form, request.query, 200, warnings, table=api.table
        )

    async def patch(
        self, request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
    ) -> web.StreamResponse:
        form = accepted(request.headers.get("Accept", ""), api.resource)
        patched, warnings, created = await patching.patch(request, req, api)
        code = 201 if created else 200
        return object_answer(
            api.resource, patched, form, request.query, code, warnings, table=api.table
        )

    async def delete(
        self, request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
    ) -> web.StreamResponse:
        form = accepted(request.headers.get("Accept", ""), api.resource)
        options = await _delete_options(request)
        obj, gone = await api.delete(req.namespace, req.name, options)
        if gone and api.resource.plural not in RETURNS_DELETED_OBJECT:
            meta = object_meta(obj)
            done = success(meta.name, errors.group_of(api.resource), api.resource.plural, meta.uid)
            if form.protobuf:
                return protobuf_response(protobuf_encode.status(done))
            return json_response(done)
        return object_answer(api.resource, obj, form, request.query, table=api.table)

    async def delete_collection(
        self, request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
    ) -> web.StreamResponse:
        options = await _delete_options(request)
        q = request.query
        selecting = ListOptions(
            label_selector=q.get("labelSelector", ""), field_selector=q.get("fieldSelector", "")
        )
        deleted = await api.delete_collection(req.namespace, selecting, options)
        if accepted(request.headers.get("Accept", ""), api.resource).protobuf:
            return list_protobuf(api.resource, deleted)
        return json_response(bodies.encode_list(api.resource, deleted))
