"""The REST door's get and list of a computed kind (componentstatuses: Kubernetes'
pkg/registry/core/componentstatus), each answered with the deprecation warning Kubernetes sends
for it, in the form the client accepts (JSON, YAML, protobuf, a Table, metadata only)."""

from __future__ import annotations

from aiohttp import web

from apiserver.endpoints.rest import bodies, protobuf_encode
from apiserver.endpoints.rest.negotiation import Accepted, Form, accepted, include_object
from apiserver.endpoints.rest.request import ResourceRequest
from apiserver.endpoints.rest.responses import (
    REQUEST_WARNINGS,
    json_response,
    protobuf_response,
    yaml_response,
)
from apiserver.endpoints.rest.status import method_not_allowed
from apiserver.registry.componentstatus.rest import DEPRECATION_WARNING, ComponentStatuses
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.resources import ComputedResource
from podplane.printers.table import build_table, partial_object_metadata


async def serve(
    request: web.Request, req: ResourceRequest, api: ComponentStatuses
) -> web.StreamResponse:
    resource = req.computed
    assert resource is not None
    request[REQUEST_WARNINGS] = (DEPRECATION_WARNING,)
    form = accepted(request.headers.get("Accept", ""), resource)
    if req.verb == "get":
        obj = await api.get(req.name)
        if form.form is Form.TABLE:
            return json_response(_table(resource, [obj], form, request))
        if form.form is Form.METADATA:
            return json_response(partial_object_metadata(obj, codec.encode, form.group_version))
        return _answer(form, bodies.encode_object(resource, obj), resource, listed=False)
    if req.verb == "list":
        q = request.query
        listed = await api.list(q.get("labelSelector", ""), q.get("fieldSelector", ""))
        if form.form is Form.TABLE:
            return json_response(_table(resource, list(listed.items), form, request))
        body: JSONObject = {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": {},
            "items": [bodies.encode_object(resource, item) for item in listed.items],
        }
        if form.form is Form.METADATA:
            body["kind"], body["apiVersion"] = "PartialObjectMetadataList", form.group_version
            body["items"] = [
                partial_object_metadata(item, codec.encode, form.group_version)
                for item in listed.items
            ]
            return json_response(body)
        return _answer(form, body, resource, listed=True)
    raise method_not_allowed(req.method)  # get and list only: no watch, no writes


def _table(
    resource: ComputedResource, objects: list[object], form: Accepted, request: web.Request
) -> JSONObject:
    return build_table(
        resource,
        objects,
        encode=codec.encode,
        include_object=include_object(request.query),
        group_version=form.group_version,
    )


def _answer(
    form: Accepted, body: JSONObject, resource: ComputedResource, *, listed: bool
) -> web.Response:
    if form.protobuf:
        encode = protobuf_encode.encode_list if listed else protobuf_encode.encode_object
        return protobuf_response(encode(resource.api_version, resource.kind, body))
    if form.yaml:
        return yaml_response(body)
    return json_response(body)
