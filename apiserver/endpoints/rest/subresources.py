"""Subresources over HTTP: status (get, update, patch) and those written like it (a
CertificateSigningRequest's approval), scale (autoscaling/v1 Scale of the
workloads), nodes/proxy (the kubelet's HTTPS API, apiserver/endpoints/rest/node_proxy.py),
pods/binding (and the bindings resource), pods/ephemeralcontainers (kubectl debug),
pods/eviction (apiserver/endpoints/rest/eviction.py), pods/log (a text stream), pods/exec,
attach and portforward (WebSockets, apiserver/endpoints/rest/streaming.py) and
serviceaccounts/token, each over the same registry code the gRPC door calls."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from apiserver import errors
from apiserver.endpoints.rest import (
    bodies,
    node_proxy,
    patching,
    protobuf_encode,
    protobuf_kinds,
    streaming,
)
from apiserver.endpoints.rest.answers import object_answer
from apiserver.endpoints.rest.eviction import create_eviction
from apiserver.endpoints.rest.negotiation import accepted
from apiserver.endpoints.rest.request import ResourceRequest, optional_int64, truthy
from apiserver.endpoints.rest.responses import json_response, protobuf_response, start_stream
from apiserver.endpoints.rest.status import method_not_allowed, not_found_path, success
from apiserver.objects import T, object_meta
from apiserver.registry.generic.options import ApplyOptions, PatchOptions
from apiserver.registry.generic.store import Store
from apiserver.registry.pod import proxy
from apiserver.registry.pod.binding import bind
from apiserver.registry.pod.ephemeral_containers import update_ephemeral_containers
from apiserver.registry.pod.eviction import Evictions
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.scale import Scaler, applied_to_parent, replicas_of
from apiserver.registry.served import ServedResources
from apiserver.registry.serviceaccount import token as service_account_token
from apiserver.registry.serviceaccount.token import TokenRequests
from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject, JSONValue
from podplane.apimachinery.patch.mergepatch import PatchError


async def serve(
    request: web.Request,
    req: ResourceRequest,
    api: ResourceAPI[Any],
    apis: ServedResources,
    nodes: Store[core_pb2.Node],
    tokens: TokenRequests | None = None,
) -> web.StreamResponse:
    sub, plural = req.subresource, api.resource.plural
    if sub == "status" and (api.resource.has_status or plural == "namespaces"):
        return await _status(request, req, api)
    if sub in api.store.strategy.status_writes:  # a CertificateSigningRequest's approval
        return await _status(request, req, api)
    if sub == "scale" and api.scaler is not None:
        return await _scale(request, req, api, api.scaler)
    if plural == "pods":
        if sub == "binding":
            return await create_binding(request, req, api, name=req.name)
        if sub == "ephemeralcontainers":
            return await _ephemeral_containers(request, req, api)
        if sub == "eviction":
            evictions = Evictions(api, apis["poddisruptionbudgets"])
            return await create_eviction(request, req, evictions)
        if sub == "log":
            return await _log(request, req, api.store, nodes)
        if sub in ("exec", "attach", "portforward"):
            return await streaming.serve(request, req, api.store, nodes)
    if plural == "nodes" and sub == "proxy":
        return await node_proxy.serve(request, req, nodes)
    if plural == "serviceaccounts" and sub == "token" and tokens is not None:
        return await _token(request, req, tokens)
    raise not_found_path()


async def _status(
    request: web.Request, req: ResourceRequest, api: ResourceAPI[T]
) -> web.StreamResponse:
    form = accepted(request.headers.get("Accept", ""), api.resource)
    if req.verb == "get":
        obj = await api.get(req.namespace, req.name, request.query.get("resourceVersion", ""))
        return object_answer(api.resource, obj, form, request.query, table=api.table)
    if req.verb == "update":
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
        updated = await api.update_status(
            obj,
            dry_run=bodies.dry_run(request.query),
            manager=patching.manager_of(request),
            subresource=req.subresource,
        )
        return object_answer(
            api.resource, updated, form, request.query, 200, warnings, table=api.table
        )
    if req.verb == "patch":
        patched, warnings, _ = await patching.patch(request, req, api)
        return object_answer(
            api.resource, patched, form, request.query, 200, warnings, table=api.table
        )
    raise method_not_allowed(req.method)


# ------------------------------------------------------------------ scale


def _scale_answer(request: web.Request, scale: JSONObject) -> web.Response:
    """An autoscaling/v1 Scale, in protobuf when the client asks for it first."""
    if accepted(request.headers.get("Accept", ""), protobuf_kinds.SCALE).protobuf:
        return protobuf_response(protobuf_encode.encode_object("autoscaling/v1", "Scale", scale))
    return json_response(scale)


async def _scale(
    request: web.Request, req: ResourceRequest, api: ResourceAPI[T], scaler: Scaler
) -> web.StreamResponse:
    if req.verb == "get":
        obj = await api.get(req.namespace, req.name)
        return _scale_answer(request, scaler.scale_of(obj))
    if req.verb not in ("update", "patch"):
        raise method_not_allowed(req.method)
    if req.verb == "patch" and request.content_type == patching.APPLY_PATCH:
        return await _apply_scale(request, req, api, scaler)
    if req.verb == "update":
        wanted_scale, _ = await bodies.read_document(request)
        patch_doc: JSONValue = None
    else:
        apply = patching.applier(request.content_type, api.resource)
        wanted_scale, patch_doc = None, await patching.read_patch(request)

    def rescaled(current: T) -> T:
        wanted = wanted_scale
        if patch_doc is not None:
            try:
                wanted = apply(scaler.scale_of(current), patch_doc)
            except PatchError as e:
                raise patching.patch_error(e) from None
        replicas, rv = replicas_of(wanted, req.name)
        updated = scaler.with_replicas(current, replicas)
        if rv:
            object_meta(updated).resource_version = rv
        return updated

    options = PatchOptions(
        dry_run=bodies.dry_run(request.query),
        manager=patching.manager_of(request),
        force=patching.force_of(request.query) if req.verb == "patch" else None,
    )
    stored = await api.patch(req.namespace, req.name, rescaled, options, subresource="scale")
    return _scale_answer(request, scaler.scale_of(stored))


async def _apply_scale(
    request: web.Request, req: ResourceRequest, api: ResourceAPI[T], scaler: Scaler
) -> web.StreamResponse:
    """A server-side apply of a Scale: applied to the object as its replicas."""
    validation = bodies.field_validation(request.query)
    config, _ = await patching.read_configuration(request, validation)
    resource = api.resource
    parent = applied_to_parent(scaler, resource.api_version, resource.kind, config, req.name)

    def decode(data: JSONValue) -> T:
        obj, _ = bodies.decode_object(resource, data, [], validation, api.unknown_fields)
        return obj

    stored, _ = await api.apply(
        req.namespace,
        req.name,
        parent,
        decode,
        ApplyOptions(
            patching.manager_of(request),
            dry_run=bodies.dry_run(request.query),
            force=bool(patching.force_of(request.query)),
        ),
        subresource="scale",
    )
    return _scale_answer(request, scaler.scale_of(stored))


# ------------------------------------------------------------------ service accounts


async def _token(
    request: web.Request, req: ResourceRequest, tokens: TokenRequests
) -> web.StreamResponse:
    """POST serviceaccounts/<name>/token: a TokenRequest in, the same with its token out (201)."""
    if req.verb != "create":
        raise method_not_allowed(req.method)
    data, _ = await bodies.read_document(request)
    if not isinstance(data, dict):
        raise errors.bad_request(
            f"TokenRequest: expected an object, got {codec.json_type_name(data)}"
        )
    kind, api_version = data.get("kind"), data.get("apiVersion")
    if (kind or api_version) and (kind, api_version) != (
        service_account_token.KIND,
        service_account_token.API_VERSION,
    ):
        raise errors.bad_request(
            f"the body of serviceaccounts/token is a {service_account_token.KIND} "
            f"({service_account_token.API_VERSION}), not {kind} ({api_version})"
        )
    try:
        token_request, _ = codec.decode(
            token_request_pb2.TokenRequest, data, bodies.field_validation(request.query)
        )
    except codec.UnknownFieldError as e:
        found = ", ".join(f'unknown field "{p}"' for p in e.paths)
        raise errors.bad_request(f"strict decoding error: {found}") from None
    except codec.DecodeError as e:
        raise errors.bad_request(f"TokenRequest: {e}") from None
    issued = await tokens.create(req.namespace or "default", req.name, token_request)
    return json_response(codec.encode(issued), 201)


# ------------------------------------------------------------------ pods


async def create_binding(
    request: web.Request, req: ResourceRequest, pods: ResourceAPI[core_pb2.Pod], name: str | None
) -> web.StreamResponse:
    """POST pods/<name>/binding, or the bindings resource: assigns the pod to the node; answers
    a Status of success (code 201), as Kubernetes' BindingREST does."""
    if req.verb != "create":
        raise method_not_allowed(req.method)
    data, _ = await bodies.read_document(request)
    if not isinstance(data, dict):
        raise errors.bad_request("Binding: expected an object")
    try:
        binding, _ = codec.decode(core_pb2.Binding, data, codec.FieldValidation.IGNORE)
    except codec.DecodeError as e:
        raise errors.bad_request(f"Binding: {e}") from None
    meta = binding.metadata
    if name is not None:
        if meta.name and meta.name != name:
            raise errors.bad_request(
                f"the name of the object ({meta.name}) does not match the name on the URL ({name})"
            )
        meta.name = name
    meta.namespace = meta.namespace or req.namespace or "default"
    await bind(pods.store, binding, pods.reads.peek)
    # Kubernetes' create handler gives a Status answer without a code its own: 201.
    return json_response({**success(), "code": 201}, 201)


async def _ephemeral_containers(
    request: web.Request, req: ResourceRequest, pods: ResourceAPI[core_pb2.Pod]
) -> web.StreamResponse:
    form = accepted(request.headers.get("Accept", ""), pods.resource)
    if req.verb == "get":
        return object_answer(
            pods.resource, await pods.get(req.namespace, req.name), form, request.query
        )
    if req.verb == "update":
        data, duplicates = await bodies.read_document(request)
        obj, warnings = bodies.decode_object(
            pods.resource, data, duplicates, bodies.field_validation(request.query)
        )
    elif req.verb == "patch":
        current = await pods.get(req.namespace, req.name)
        apply = patching.applier(request.content_type, pods.resource)
        warnings = []
        obj = patching.patched_object(
            pods.resource,
            current,
            apply,
            await patching.read_patch(request),
            bodies.field_validation(request.query),
            warnings,
        )
    else:
        raise method_not_allowed(req.method)
    pod = obj if isinstance(obj, core_pb2.Pod) else core_pb2.Pod()
    bodies.require_name_match(pods.resource, pod, req.name)
    bodies.require_namespace_match(pods.resource, pod, req.namespace)
    updated = await update_ephemeral_containers(pods.store, pod, patching.manager_of(request))
    return object_answer(pods.resource, updated, form, request.query, 200, warnings)


async def _log(
    request: web.Request,
    req: ResourceRequest,
    pods: Store[core_pb2.Pod],
    nodes: Store[core_pb2.Node],
) -> web.StreamResponse:
    """The container's log as text, streamed while `follow` holds it open (kubectl logs -f)."""
    if req.verb != "get":
        raise method_not_allowed(req.method)
    q = request.query
    log_request = core_pb2.PodLogRequest(
        namespace=req.namespace or "default",
        name=req.name,
        container=q.get("container", ""),
        follow=truthy(q.get("follow")),
        previous=truthy(q.get("previous")),
        timestamps=truthy(q.get("timestamps")),
    )
    tail = optional_int64(q, "tailLines")
    if tail is not None:
        log_request.tail_lines = tail
    since = optional_int64(q, "sinceSeconds")
    if since is not None:
        log_request.since_seconds = since
    limit = optional_int64(q, "limitBytes")
    chunks = aiter(proxy.logs(pods, nodes, log_request))
    first = await anext(chunks, None)  # errors (no such pod, container) before the 200
    response = await start_stream(request, "text/plain")
    sent = 0
    try:
        chunk = first
        while chunk is not None:
            data = chunk.data
            if limit is not None:
                data = data[: max(limit - sent, 0)]
            if data:
                await response.write(data)
                sent += len(data)
            if limit is not None and sent >= limit:
                break
            chunk = await anext(chunks, None)
        await response.write_eof()
    except ConnectionResetError:
        pass
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
    return response
