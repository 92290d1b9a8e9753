"""Errors as Kubernetes' REST API answers them (k8s.io/apiserver/pkg/endpoints/handlers/
responsewriters): a metav1.Status with the HTTP code its reason has in Kubernetes, so kubectl
prints the same line as against Kubernetes (`Error from server (NotFound): pods "x" not found`)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from apiserver import errors
from podplane.apimachinery.json_types import JSONObject

# metav1.StatusReason -> HTTP code (k8s.io/apimachinery/pkg/api/errors).
REASON_CODES = {
    "BadRequest": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "NotFound": 404,
    "MethodNotAllowed": 405,
    "NotAcceptable": 406,
    "AlreadyExists": 409,
    "Conflict": 409,
    "Gone": 410,
    "Expired": 410,
    "RequestEntityTooLarge": 413,
    "UnsupportedMediaType": 415,
    "Invalid": 422,
    "TooManyRequests": 429,
    "InternalError": 500,
    "ServerTimeout": 500,
    "StorageReadError": 500,
    "ServiceUnavailable": 503,
    "Timeout": 504,
}
# What a reason the REST API does not know maps to, by the gRPC code the error carries.
GRPC_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 410,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNIMPLEMENTED: 405,
}


def http_code(err: errors.APIError) -> int:
    return err.http_status or REASON_CODES.get(err.reason) or GRPC_CODES.get(err.code, 500)


def _details(d: errors.Details) -> JSONObject:
    out: JSONObject = {}
    for key, value in (("name", d.name), ("group", d.group), ("kind", d.kind), ("uid", d.uid)):
        if value:
            out[key] = value
    if d.causes:
        out["causes"] = [
            {
                k: v
                for k, v in (("reason", c.reason), ("message", c.message), ("field", c.field))
                if v
            }
            for c in d.causes
        ]
    if d.retry_after_seconds:
        out["retryAfterSeconds"] = d.retry_after_seconds
    return out


def failure(err: errors.APIError) -> tuple[int, JSONObject]:
    """The HTTP code and metav1.Status body of an error."""
    code = http_code(err)
    reason = (
        err.reason
        if err.reason in REASON_CODES or err.http_status
        else ("InternalError" if code == 500 else err.reason)
    )
    body: JSONObject = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": err.message,
    }
    if err.reason:  # a Status a registry answers may have none (Kubernetes leaves it out)
        body["reason"] = reason
    if err.details is not None:  # written even when empty, as Go writes a non-nil pointer
        body["details"] = _details(err.details)
    body["code"] = code
    return code, body


def success(name: str = "", group: str = "", kind: str = "", uid: str = "") -> JSONObject:
    """A Status of success, as a delete of an object that is gone answers."""
    details = _details(errors.Details(name=name, group=group, kind=kind, uid=uid))
    body: JSONObject = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
    }
    if details:
        body["details"] = details
    return body


def unauthorized() -> errors.APIError:
    return errors.APIError(grpc.StatusCode.UNAUTHENTICATED, "Unauthorized", "Unauthorized")


def not_found_path() -> errors.APIError:
    """A URL that names nothing served: Kubernetes answers 404 with this message."""
    return errors.APIError(
        grpc.StatusCode.NOT_FOUND, "NotFound", "the server could not find the requested resource"
    )


def method_not_allowed(method: str) -> errors.APIError:
    return errors.APIError(
        grpc.StatusCode.UNIMPLEMENTED,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
    )


def unsupported_media_type(
    content_type: str,
    accepted: Sequence[str] = (
        "application/json",
        "application/yaml",
        "application/vnd.kubernetes.protobuf",
    ),
) -> errors.APIError:
    return errors.APIError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media "
        "types include: "
        + ", ".join(accepted)
        + (f' (got "{content_type}")' if content_type else ""),
    )


def not_acceptable() -> errors.APIError:
    return errors.APIError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "NotAcceptable",
        "only the following media types are accepted: application/json, "
        "application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io",
    )
