"""Answers of the REST door in the form the client accepts: an object or a list as JSON (YAML,
or Kubernetes' protobuf), a metav1.Table (kubectl get), or metadata only
(PartialObjectMetadata)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiohttp import web

from apiserver.endpoints.rest import bodies, protobuf_encode
from apiserver.endpoints.rest.negotiation import Accepted, Form, include_object
from apiserver.endpoints.rest.responses import json_response, protobuf_response, yaml_response
from apiserver.objects import ListMessage, T, object_meta
from podplane.apimachinery import codec
from podplane.apimachinery.resources import Resource
from podplane.printers.spec import TableSpec
from podplane.printers.table import build_table, partial_object_metadata


def object_answer(
    resource: Resource[T],
    obj: T,
    form: Accepted,
    query: Mapping[str, str],
    status: int = 200,
    warnings: Sequence[str] = (),
    *,
    table: TableSpec[T] | None = None,
) -> web.Response:
    """One object in the form the client accepts (`table`: the kind's, when the printers have
    none: a custom resource's)."""
    if form.form is Form.TABLE:
        body = build_table(
            resource,
            [obj],
            spec=table,
            encode=codec.encode,
            include_object=include_object(query),
            resource_version=object_meta(obj).resource_version,
            group_version=form.group_version,
        )
    elif form.form is Form.METADATA:
        body = partial_object_metadata(obj, codec.encode, form.group_version)
    else:
        body = bodies.encode_object(resource, obj)
        if form.protobuf:
            encoded = protobuf_encode.encode_object(resource.api_version, resource.kind, body)
            return protobuf_response(encoded, status, warnings)
        if form.yaml:
            return yaml_response(body, status, warnings)
    return json_response(body, status, warnings)


def list_answer(
    resource: Resource[T],
    listed: ListMessage[T],
    form: Accepted,
    query: Mapping[str, str],
    *,
    table: TableSpec[T] | None = None,
) -> web.Response:
    meta = listed.metadata
    if form.form is Form.TABLE:
        return json_response(
            build_table(
                resource,
                list(listed.items),
                spec=table,
                encode=codec.encode,
                include_object=include_object(query),
                resource_version=meta.resource_version,
                continue_token=meta.continue_token,
                remaining_item_count=(
                    meta.remaining_item_count if meta.HasField("remaining_item_count") else None
                ),
                group_version=form.group_version,
            )
        )
    if form.form is Form.METADATA:
        body = bodies.encode_list(resource, listed)
        body["kind"], body["apiVersion"] = "PartialObjectMetadataList", form.group_version
        body["items"] = [
            partial_object_metadata(item, codec.encode, form.group_version) for item in listed.items
        ]
        return json_response(body)
    if form.protobuf:
        return list_protobuf(resource, listed)
    if form.yaml:
        return yaml_response(bodies.encode_list(resource, listed))
    return json_response(bodies.encode_list(resource, listed))


def list_protobuf(resource: Resource[T], listed: ListMessage[T]) -> web.Response:
    body = bodies.encode_list(resource, listed)
    return protobuf_response(protobuf_encode.encode_list(resource.api_version, resource.kind, body))
