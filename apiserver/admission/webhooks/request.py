"""What a webhook is asked, made from admission's Attributes (Kubernetes'
webhook/request/admissionreview.go CreateAdmissionObjects over admission.VersionedAttributes):
the objects in Kubernetes' JSON as podplane's codec writes them, the kind and resource of the
request, who asks, the verb's options; and the webhook library's refusals (metav1.Status
shapes) as the registry's APIErrors, with the HTTP code the Status carries."""

from __future__ import annotations

import grpc
from google.protobuf.message import Message

from apiserver import errors
from apiserver.admission.attributes import Attributes
from apiserver.auth.user import UserInfo as Caller
from apiserver.webhook.admission_review import (
    AdmissionRequest,
    GroupVersionKind,
    GroupVersionResource,
    UserInfo,
)
from apiserver.webhook.errors import StatusError, internal_error
from podplane.apimachinery import codec
from podplane.apimachinery.json_types import JSONObject
from podplane.apimachinery.resources import Resource

# metav1.Status code -> the gRPC code the gRPC door ends the call with.
_GRPC_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ABORTED,
    410: grpc.StatusCode.OUT_OF_RANGE,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def encode_object(resource: Resource, obj: Message) -> JSONObject:
    """The object as Kubernetes' JSON serializer writes it, typed. A raw JSON field that holds
    no JSON (a ControllerRevision's data, which the gRPC door takes as text and the strategy
    refuses only after mutating admission) is the request's 400: Kubernetes' decoder would
    have refused the body before admission."""
    try:
        document = codec.encode(obj)
    except ValueError as e:
        raise errors.bad_request(f"the object cannot be encoded as JSON: {e}") from None
    document["apiVersion"] = resource.api_version
    document["kind"] = resource.kind
    return document


def decode_object(resource: Resource, document: JSONObject) -> Message:
    """A patched object read back as the dispatcher's JSON serializer reads it (fields it does
    not know dropped); a value of the wrong type is an InternalError with the decoder's text."""
    try:
        obj, _ = codec.decode(resource.message, document, codec.FieldValidation.IGNORE)
    except codec.DecodeError as e:
        raise StatusError(internal_error(e)) from None
    message: Message = obj
    return message


def _user(caller: Caller | None) -> UserInfo:
    if caller is None:
        return UserInfo()
    return UserInfo(
        username=caller.name,
        uid=caller.uid,
        groups=tuple(sorted(caller.groups)),
        extra=dict(caller.extra),
    )


def _options(attrs: Attributes) -> JSONObject:
    """The verb's metav1 options as Kubernetes sends them (meta.k8s.io/v1)."""
    opts = attrs.options
    out: JSONObject = {"kind": opts.kind, "apiVersion": "meta.k8s.io/v1"}
    if opts.dry_run:
        out["dryRun"] = ["All"]
    if opts.kind == "DeleteOptions":
        if opts.grace_period_seconds is not None:
            out["gracePeriodSeconds"] = opts.grace_period_seconds
        if opts.propagation_policy:
            out["propagationPolicy"] = opts.propagation_policy
    elif opts.field_manager:
        out["fieldManager"] = opts.field_manager
    return out


def admission_request(attrs: Attributes) -> AdmissionRequest:
    """The request every webhook of this write is asked about (its uid set per call)."""
    r = attrs.resource
    return AdmissionRequest(
        uid="",
        kind=GroupVersionKind(r.group, r.version, r.kind),
        resource=GroupVersionResource(r.group, r.version, r.plural),
        sub_resource=attrs.subresource,
        operation=attrs.operation,
        user_info=_user(attrs.user_info),
        name=attrs.name,
        namespace=attrs.namespace,
        object=encode_object(r, attrs.object) if attrs.object is not None else None,
        old_object=encode_object(r, attrs.old_object) if attrs.old_object is not None else None,
        dry_run=attrs.dry_run,
        options=_options(attrs),
    )


def _details(status: JSONObject) -> errors.Details | None:
    details = status.get("details")
    if not isinstance(details, dict):
        return None
    causes = tuple(
        errors.Cause(
            str(c.get("reason") or ""), str(c.get("message") or ""), str(c.get("field") or "")
        )
        for c in details.get("causes") or []
        if isinstance(c, dict)
    )
    return errors.Details(
        name=str(details.get("name") or ""),
        group=str(details.get("group") or ""),
        kind=str(details.get("kind") or ""),
        uid=str(details.get("uid") or ""),
        causes=causes,
        retry_after_seconds=int(details.get("retryAfterSeconds") or 0),
    )


def status_error(status: JSONObject) -> errors.APIError:
    """A metav1.Status (a webhook's denial, an InternalError) as the error the client gets: the
    same code, reason, message and details at the REST door, the code's status over gRPC."""
    code = status.get("code")
    http = code if isinstance(code, int) and code >= 400 else 500
    grpc_code = _GRPC_CODES.get(
        http, grpc.StatusCode.INTERNAL if http >= 500 else grpc.StatusCode.FAILED_PRECONDITION
    )
    return errors.APIError(
        grpc_code,
        str(status.get("reason") or ""),
        str(status.get("message") or ""),
        _details(status),
        http_status=http,
    )
